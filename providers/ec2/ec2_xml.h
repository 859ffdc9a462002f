/* ec2_xml: parsers for the EC2 Query API's XML replies (libxml2, never string search).
 *
 * Promises:
 * - Each parser takes a reply body of at most EC2_XML_MAX bytes, refuses a
 *   document with a DTD (no entity tricks), checks the root element's local
 *   name (namespaces are ignored: EC2 changes them with every API version),
 *   and fails with CB_ERR_INVALID whose message names the element or field
 *   ("DescribeInstancesResponse: instance 3: missing <instanceId>").
 * - Every string copied out is sanitised (cb_sanitize) and bounded by the
 *   fixed-size fields of struct cb_instance; identifiers that do not fit, or
 *   carry characters an EC2 id never has, are refused rather than truncated.
 * - One failure path: on error nothing is appended to the caller's list.
 * - Thread-safe (libxml2 parser contexts are per call); call ec2_xml_init()
 *   once before the first parse (driver init does).
 */
#ifndef CB_EC2_XML_H
#define CB_EC2_XML_H

#include "cb_error.h"
#include "core/observe.h"

#include <stddef.h>

#define EC2_XML_MAX ((size_t)16 << 20)
#define EC2_NEXT_TOKEN_MAX 1024

/* An EC2 error document: <Response><Errors><Error><Code>... */
struct ec2_error_doc {
    char code[96];
    char message[384];
    char request_id[96];
};

void ec2_xml_init(void);

/* Parse <Response><Errors><Error> (or <ErrorResponse><Error>). */
int ec2_xml_parse_error(const char *body, size_t len, struct ec2_error_doc *out,
                        struct cb_err *err);

/* Parse a RunInstancesResponse or DescribeInstancesResponse (`root` names
 * which) and append one cb_instance per <instancesSet><item>. batch_id and
 * node_id come from the cloudburst-batch / cloudburst-node tags, else from
 * <clientToken> and "<batch>-<amiLaunchIndex>". next_token (may be NULL)
 * receives <nextToken> or "". */
int ec2_xml_parse_instances(const char *body, size_t len, const char *root,
                            struct cb_instance_list *out, char *next_token, size_t next_len,
                            struct cb_err *err);

/* Only the <nextToken> of a DescribeInstancesResponse (a streaming SAX pass,
 * no tree: much cheaper than the full parse), so the next page can be
 * requested while this one is parsed. "" when there is none. */
int ec2_xml_next_token(const char *body, size_t len, char *next_token, size_t next_len,
                       struct cb_err *err);

/* Parse a TerminateInstancesResponse: one entry (id, state from
 * <currentState>) per instance. */
int ec2_xml_parse_terminate(const char *body, size_t len, struct cb_instance_list *out,
                            struct cb_err *err);

/* EC2 instance state name -> normalised state (unknown words: UNKNOWN). */
enum cb_instance_state ec2_state_from_name(const char *name);

#endif

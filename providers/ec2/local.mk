# providers/ec2: the Amazon EC2 driver, a dlopen()ed libtool module exporting
# only cb_provider_ops_v1. The signer, the XML parsers and the credential
# sources live in a convenience library so the unit tests and fuzz targets
# link exactly the code the module runs.
noinst_LTLIBRARIES += providers/ec2/libec2.la
providers_ec2_libec2_la_SOURCES = \
	providers/ec2/sigv4.c providers/ec2/sigv4.h \
	providers/ec2/ec2_xml.c providers/ec2/ec2_xml.h \
	providers/ec2/ec2_cred.c providers/ec2/ec2_cred.h
providers_ec2_libec2_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/providers/common \
	-I$(top_srcdir)/providers/ec2
providers_ec2_libec2_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS) $(XML_CFLAGS) $(JSONC_CFLAGS) \
	$(CRYPTO_CFLAGS)
providers_ec2_libec2_la_LIBADD = $(XML_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS)

provider_LTLIBRARIES += providers/ec2/ec2.la
providers_ec2_ec2_la_SOURCES = providers/ec2/ec2.c providers/ec2/ec2_api.c providers/ec2/ec2_api.h
providers_ec2_ec2_la_CPPFLAGS = $(providers_ec2_libec2_la_CPPFLAGS)
providers_ec2_ec2_la_CFLAGS = $(providers_ec2_libec2_la_CFLAGS)
providers_ec2_ec2_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version -shared \
	-export-symbols-regex '^cb_provider_ops_v1$$'
providers_ec2_ec2_la_LIBADD = providers/ec2/libec2.la providers/common/libcbhttp.la \
	src/libcbcommon.la $(CURL_LIBS) $(XML_LIBS) $(JSONC_LIBS) $(CRYPTO_LIBS)

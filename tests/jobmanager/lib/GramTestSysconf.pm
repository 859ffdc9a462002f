# Loaded with PERL5OPT=-MGramTestSysconf (or "use") before any Globus module
# reads its configuration: points Globus::Core::Paths' sysconfdir, which
# Debian hard-codes to /etc, at the test's scratch tree, so condor.pm's BEGIN
# block reads a globus-condor.conf naming the fake condor_submit and cloud.pm
# reads the test's globus-cloud.conf.
package GramTestSysconf;

use strict;
use warnings;
use Globus::Core::Paths;

BEGIN
{
    die "GramTestSysconf: GRAM_TEST_SYSCONFDIR is not set\n"
        unless defined($ENV{GRAM_TEST_SYSCONFDIR});
    $Globus::Core::Paths::sysconfdir = $ENV{GRAM_TEST_SYSCONFDIR};
}

1;

# Helpers shared by the jobmanager-cloud tests: a scratch tree holding a
# Globus sysconfdir (globus-condor.conf naming the fake condor tools, an
# optional globus-cloud.conf), the fakes themselves, their spool, and job
# directories; job descriptions shaped like the ones globus-job-manager writes.
package CloudJMTest;

use strict;
use warnings;
use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Copy qw(copy);
use File::Spec;
use File::Path qw(make_path);
use File::Temp qw(tempdir);

our $TESTS_DIR = abs_path(dirname(__FILE__) . '/..');
our $MODULE_DIR = abs_path("$TESTS_DIR/../../jobmanager");

# Debian's GRAM pieces the tests drive.
our $CONDOR_PM = '/usr/share/perl5/Globus/GRAM/JobManager/condor.pm';
our $DRIVER = '/usr/share/globus/globus-job-manager-script.pl';

sub have_gram
{
    return -r $CONDOR_PM && -r $DRIVER;
}

# A fresh scratch tree under $top_builddir (never the source tree), removed
# when the test ends.
sub scratch
{
    my $base = $ENV{top_builddir};
    $base = File::Spec->tmpdir() unless defined($base) && -d $base && -w $base;
    my $root = tempdir('jobmanager-XXXXXX', DIR => $base, CLEANUP => 1);
    $root = abs_path($root);
    make_path("$root/etc/globus", "$root/bin", "$root/spool", "$root/jobs",
        "$root/home");
    foreach my $tool ('condor_submit', 'condor_rm')
    {
        copy("$TESTS_DIR/fake-$tool", "$root/bin/$tool")
            or die "copy fake-$tool: $!\n";
        chmod(0755, "$root/bin/$tool") or die "chmod $tool: $!\n";
    }
    write_file("$root/etc/globus/globus-condor.conf",
        "condor_submit=\"$root/bin/condor_submit\"\n"
        . "condor_rm=\"$root/bin/condor_rm\"\n");
    # condor.pm also looks for isNFSLite in $sysconfdir/globus-condor.conf.
    write_file("$root/etc/globus-condor.conf", "isNFSLite=0\n");
    return $root;
}

sub write_file
{
    my ($path, $text) = @_;
    open(my $fh, '>', $path) or die "$path: $!\n";
    print $fh $text;
    close($fh) or die "$path: $!\n";
}

sub read_file
{
    my $path = shift;
    open(my $fh, '<', $path) or die "$path: $!\n";
    local $/;
    my $text = <$fh>;
    close($fh);
    return $text;
}

# globus-cloud.conf: a hash of settings, or undef to remove the file.
sub write_cloud_conf
{
    my ($root, $settings) = @_;
    my $path = "$root/etc/globus/globus-cloud.conf";
    if (!defined($settings))
    {
        unlink($path);
        return;
    }
    write_file($path, join('', map { "$_=\"$settings->{$_}\"\n" }
        sort keys %{$settings}));
}

# How many times the fake condor_submit ran.
sub submit_calls
{
    my $root = shift;
    my $n = 0;
    $n++ while -e "$root/spool/submit.$n";
    return $n;
}

# What the fake condor_submit was given on call N: (submit file, env text).
sub captured
{
    my ($root, $n) = @_;
    return (read_file("$root/spool/submit.$n"), read_file("$root/spool/env.$n"));
}

my $job_counter = 0;

# A job description as globus-job-manager hands it to the script: every
# value is an array ref, names canonical (lower case, no underscores).
sub description
{
    my ($root, %override) = @_;
    my $id = sprintf('%d.%d', $$, ++$job_counter);
    my $jobdir = "$root/jobs/$id";
    make_path($jobdir);
    my %desc = (
        executable => ['/bin/echo'],
        arguments  => ['hello', "it's"],
        directory  => ["$root/home"],
        stdin      => ['/dev/null'],
        stdout     => ["$jobdir/stdout"],
        stderr     => ["$jobdir/stderr"],
        jobtype    => ['single'],
        count      => [1],
        uniqid     => ["uniq-$id"],
        jobdir     => [$jobdir],
    );
    foreach my $key (keys %override)
    {
        if (defined($override{$key})) { $desc{$key} = $override{$key}; }
        else                          { delete($desc{$key}); }
    }
    return \%desc;
}

# The Requirements-related lines of a submit description, in order.
sub lines_matching
{
    my ($text, $re) = @_;
    return grep { m/$re/ } split(/\n/, $text);
}

1;

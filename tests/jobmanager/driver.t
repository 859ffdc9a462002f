#!/usr/bin/perl
# jobmanager-cloud, black box: Debian's real globus-job-manager-script.pl runs
# "-m cloud" the way globus-job-manager does (fixed environment, description
# written as Perl source), with a fake condor_submit/condor_rm recording what
# they are given.  Submit, interactive submit, a rejection, poll and cancel.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use CloudJMTest;

plan(skip_all => 'Debian GRAM modules are not installed'
    . ' (globus-gram-job-manager-condor; tools/install-deps)')
    unless CloudJMTest::have_gram();

my $root = CloudJMTest::scratch();
my $CLAUSE_LINE = 'Requirements=($(Requirements:True)) && (TARGET.IsCloudNode =?= True)';

# A description as the C job manager serialises it: Perl source assigning a
# hash of array refs, single-quoted strings.
sub perl_description
{
    my $desc = shift;
    my $quote = sub {
        my $v = shift;
        $v =~ s/([\\'])/\\$1/g;
        return "'$v'";
    };
    my $value;
    $value = sub {
        my $v = shift;
        return '[ ' . join(', ', map { $value->($_) } @{$v}) . ' ]'
            if ref($v) eq 'ARRAY';
        return $quote->($v);
    };
    return '$description = { '
        . join(', ', map { $quote->($_) . ' => ' . $value->($desc->{$_}) }
            sort keys %{$desc})
        . " };\n";
}

# Run the driver with the environment globus-job-manager gives it (plus the
# two test hooks: where the scratch sysconfdir and the fakes' spool are).
sub run_driver
{
    my ($args, $stdin) = @_;
    my $out = "$root/driver-output";
    my $in = "$root/driver-input";
    CloudJMTest::write_file($in, defined($stdin) ? $stdin : '');
    my %env = (
        PATH => '/usr/bin:/bin',
        HOME => "$root/home",
        LOGNAME => 'griduser',
        GLOBUS_LOCATION => '/usr',
        PERL5LIB => "$CloudJMTest::MODULE_DIR:$CloudJMTest::TESTS_DIR/lib",
        PERL5OPT => '-MGramTestSysconf',
        GRAM_TEST_SYSCONFDIR => "$root/etc",
        FAKE_CONDOR_SPOOL => "$root/spool",
    );
    my $pid = fork();
    die "fork: $!\n" unless defined($pid);
    if ($pid == 0)
    {
        %ENV = %env;
        open(STDIN, '<', $in) or die "$in: $!\n";
        open(STDOUT, '>', $out) or die "$out: $!\n";
        open(STDERR, '>&', \*STDOUT) or die "stderr: $!\n";
        exec($^X, $CloudJMTest::DRIVER, @{$args}) or die "exec: $!\n";
    }
    waitpid($pid, 0);
    my $status = $?;
    return ($status, CloudJMTest::read_file($out));
}

sub desc_file
{
    my ($name, $desc) = @_;
    my $path = "$root/$name.pl";
    CloudJMTest::write_file($path, perl_description($desc));
    return $path;
}

# --- -c submit: count > 1, xcount, memory, env, wall time, own requirements
my $desc = CloudJMTest::description($root,
    jobtype => ['multiple'], count => [2], xcount => [4], minmemory => [3000],
    maxwalltime => [120], environment => [['VO', 'atlas']],
    condorsubmit => [['requirements', '(TARGET.HasCVMFS =?= True)']]);
my $calls = CloudJMTest::submit_calls($root);
my ($status, $out) = run_driver(['-m', 'cloud', '-f',
    desc_file('submit', $desc), '-c', 'submit']);
is($status, 0, 'submit: driver exits 0') or diag($out);
my $cluster = 4242 + $calls;
like($out, qr/^GRAM_SCRIPT_JOB_ID:${cluster}\.000\.000,${cluster}\.001\.000$/m,
    'submit: two procs reported');
like($out, qr/^GRAM_SCRIPT_JOB_STATE:1$/m, 'submit: PENDING');
unlike($out, qr/GRAM_SCRIPT_ERROR/, 'submit: no error');
my ($file, $env) = CloudJMTest::captured($root, $calls);
note("Captured submit description (globus-job-manager-script.pl -m cloud,"
    . " count=2):\n$file");
is_deeply([CloudJMTest::lines_matching($file, qr/^\s*requirements\s*=/i)], [
        'Requirements =  Memory >= 3000',
        'requirements=(TARGET.HasCVMFS =?= True)',
        $CLAUSE_LINE,
    ], 'submit: own requirements kept, clause last');
like($file, qr/^\+WantCloudNode=True$/m, 'submit: marker');
like($file, qr/^request_cpus=4 $/m, 'submit: xcount');
like($file, qr/^request_memory=3000$/m, 'submit: min_memory');
like($file, qr/^Environment = VO=atlas;PATH=/m, 'submit: environment');
like($file, qr/> \(120 \* 60\)\)$/m, 'submit: max_wall_time');
is(scalar(() = $file =~ m/^queue 1$/mg), 2, 'submit: two queue stanzas');
like($env, qr/^_CONDOR_APPEND_REQ_VANILLA=\(TARGET\.IsCloudNode =\?= True\)$/m,
    'submit: APPEND_REQ_VANILLA for condor_submit');

# --- -c poll on the inherited condor poll, from a synthetic XML user log ---
{
    my %polled = %{$desc};
    $polled{jobid} = ["${cluster}.000.000,${cluster}.001.000"];
    my $log = "$desc->{jobdir}[0]/condor.$desc->{uniqid}[0]";
    my $event = sub {
        my ($type, $proc) = @_;
        return "<c>\n    <a n=\"MyType\"><s>Event</s></a>\n"
            . "    <a n=\"EventTypeNumber\"><i>$type</i></a>\n"
            . "    <a n=\"Cluster\"><i>$cluster</i></a>\n"
            . "    <a n=\"Proc\"><i>$proc</i></a>\n</c>\n";
    };
    CloudJMTest::write_file($log, $event->(0, 0) . $event->(1, 0));
    ($status, $out) = run_driver(['-m', 'cloud', '-f',
        desc_file('poll1', \%polled), '-c', 'poll']);
    like($out, qr/^GRAM_SCRIPT_JOB_STATE:2$/m, 'poll: running job is ACTIVE')
        or diag($out);
    CloudJMTest::write_file($log, $event->(1, 0) . $event->(1, 1)
        . $event->(5, 0) . $event->(5, 1));
    ($status, $out) = run_driver(['-m', 'cloud', '-f',
        desc_file('poll2', \%polled), '-c', 'poll']);
    like($out, qr/^GRAM_SCRIPT_JOB_STATE:8$/m, 'poll: both procs done: DONE')
        or diag($out);

    ($status, $out) = run_driver(['-m', 'cloud', '-f',
        desc_file('cancel', \%polled), '-c', 'cancel']);
    like($out, qr/^GRAM_SCRIPT_JOB_STATE:4$/m, 'cancel: FAILED state reported')
        or diag($out);
    is(CloudJMTest::read_file("$root/spool/rm.0"),
        "${cluster}.000 ${cluster}.001\n", 'cancel: condor_rm got both procs');
}

# --- -c interactive: exactly what globus-job-manager writes on the pipe ---
{
    my $d = CloudJMTest::description($root,
        condorsubmit => [['+ProjectName', '"cms"']]);
    my $before = CloudJMTest::submit_calls($root);
    ($status, $out) = run_driver(['-m', 'cloud', '-c', 'interactive'],
        "submit\n" . perl_description($d) . "\nquit\n");
    is($status, 0, 'interactive: driver exits 0') or diag($out);
    like($out, qr/^GRAM_SCRIPT_JOB_ID:\d+\.000\.000$/m, 'interactive: job id');
    is(CloudJMTest::submit_calls($root), $before + 1,
        'interactive: condor_submit ran once');
    my ($f) = CloudJMTest::captured($root, $before);
    like($f, qr/^\+ProjectName="cms"\n\+WantCloudNode=True\n\Q$CLAUSE_LINE\E$/m,
        'interactive: extras, marker, clause');
}

# --- a rejected job: error 134 on the protocol, condor_submit never runs --
foreach my $case (
    ['forced +Requirements', [['+Requirements', 'True']]],
    ['unbalanced requirements', [['requirements', 'True) || (True']]],
    ['newline in an extra', [['+A', "1\nqueue"]]])
{
    my ($name, $extras) = @{$case};
    my $before = CloudJMTest::submit_calls($root);
    ($status, $out) = run_driver(['-m', 'cloud', '-f',
        desc_file('reject', CloudJMTest::description($root,
            condorsubmit => $extras)), '-c', 'submit']);
    like($out, qr/^GRAM_SCRIPT_ERROR:134$/m, "reject $name: error 134")
        or diag($out);
    like($out, qr/^GRAM_SCRIPT_GT3_FAILURE_MESSAGE:RSL attribute condor_submit, pair 1: /m,
        "reject $name: failure message names the attribute");
    unlike($out, qr/GRAM_SCRIPT_JOB_ID/, "reject $name: no job id");
    is(CloudJMTest::submit_calls($root), $before,
        "reject $name: condor_submit not run");
}

# --- the shipped cloud.rvf is valid for Globus' own checker ---------------
SKIP: {
    my $check = '/usr/sbin/globus-rvf-check';
    skip('globus-rvf-check not installed', 1) unless -x $check;
    my $rvf = "$CloudJMTest::MODULE_DIR/cloud.rvf";
    my $result = `$check $rvf 2>&1`;
    like($result, qr/: ok \[4 records\]/, 'cloud.rvf: globus-rvf-check ok')
        or diag($result);
}

# --- the service entry is Debian's jobmanager-condor entry, type cloud ----
SKIP: {
    my $condor_entry = '/etc/grid-services/available/jobmanager-condor';
    skip("$condor_entry not installed", 2) unless -r $condor_entry;
    my ($condor_line) = grep { m/\S/ && !m/^\s*#/ }
        split(/\n/, CloudJMTest::read_file($condor_entry));
    my @cloud = grep { m/\S/ && !m/^\s*#/ } split(/\n/,
        CloudJMTest::read_file("$CloudJMTest::MODULE_DIR/grid-services/jobmanager-cloud"));
    is(scalar(@cloud), 1, 'service entry: one line');
    (my $expected = $condor_line) =~ s/-type condor\b/-type cloud/;
    is_deeply([split(' ', $cloud[0])], [split(' ', $expected)],
        'service entry: the condor entry with -type cloud');
}

done_testing();

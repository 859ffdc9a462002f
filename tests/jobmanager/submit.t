#!/usr/bin/perl
# jobmanager-cloud, in process: Debian's real Globus::GRAM::JobManager::condor
# with Globus::GRAM::JobManager::cloud on top, submitting to a fake
# condor_submit that records the submit description it is given.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use CloudJMTest;

my $root;

BEGIN
{
    if (!CloudJMTest::have_gram())
    {
        plan(skip_all => 'Debian GRAM modules are not installed'
            . ' (globus-gram-job-manager-condor; tools/install-deps)');
    }
    $root = CloudJMTest::scratch();
    $ENV{GRAM_TEST_SYSCONFDIR} = "$root/etc";
    $ENV{FAKE_CONDOR_SPOOL} = "$root/spool";
    $ENV{X509_USER_PROXY} = "$root/x509up_u1000";
    delete($ENV{$_}) foreach grep { m/^_CONDOR_/i } keys %ENV;
    delete($ENV{GLOBUS_SPOOL_DIR});
}

use GramTestSysconf;    # before condor.pm's BEGIN reads its configuration
use lib $CloudJMTest::MODULE_DIR;
use Globus::GRAM::JobDescription;
use Globus::GRAM::JobManager::condor;
use Globus::GRAM::JobManager::cloud;

my $CLAUSE = '(TARGET.IsCloudNode =?= True)';
my $CLAUSE_LINE = "Requirements=(\$(Requirements:True)) && $CLAUSE";

# Submit with LRM $class; the module's GRAM_SCRIPT_* chatter goes to a file
# (never an in-memory handle: IPC::Open3 would hand the child fd 1).
sub run_submit
{
    my ($class, $desc) = @_;
    my $jd = Globus::GRAM::JobDescription->new($desc);
    my $chatter = "$desc->{jobdir}[0]/script-output";
    open(my $saved, '>&', \*STDOUT) or die "dup STDOUT: $!\n";
    open(STDOUT, '>', $chatter) or die "$chatter: $!\n";
    my $result = eval { $class->new($jd)->submit() };
    my $died = $@;
    open(STDOUT, '>&', $saved) or die "restore STDOUT: $!\n";
    die $died if $died;
    return ($result, CloudJMTest::read_file($chatter));
}

# What HTCondor would make of recorded call N (final Requirements and its
# value on a cloud and a site slot), computed by lib/final_requirements.py.
sub final_requirements
{
    my $n = shift;
    my $python = $ENV{PYTHON3} || 'python3';
    my @out = `$python $FindBin::Bin/lib/final_requirements.py $root/spool/submit.$n $root/spool/env.$n`;
    die "final_requirements.py failed: $?\n" if $?;
    chomp(@out);
    return map { my ($k, $v) = split(/ /, $_, 2); ($k => $v) } @out;
}

sub is_error
{
    my ($result, $code, $name) = @_;
    # A code may be given by its Globus::GRAM::Error name.
    if ($code !~ m/^\d+$/)
    {
        no strict 'refs';
        $name .= " ($code)";
        $code = &{"Globus::GRAM::Error::$code"}()->value();
    }
    ok(ref($result) && $result->isa('Globus::GRAM::Error')
        && $result->value() == $code, "$name: GRAM error $code")
        or diag(explain($result));
}

# --- a job with its own requirements: the closing-note capture ------------
{
    my $calls = CloudJMTest::submit_calls($root);
    my $desc = CloudJMTest::description($root,
        condorsubmit => [
            ['requirements', '(TARGET.HasCVMFS =?= True) || (OpSys == "LINUX")'],
            ['+ProjectName', '"atlas"'],
        ],
        minmemory => [2000]);
    my ($result, $chatter) = run_submit('Globus::GRAM::JobManager::cloud',
        $desc);
    is(ref($result), 'HASH', 'own requirements: submit returns a result hash')
        or diag($chatter);
    is($result->{JOB_ID}, sprintf('%d.000.000', 4242 + $calls),
        'own requirements: job id from the cluster condor_submit printed');
    is($result->{JOB_STATE}, 1, 'own requirements: job is PENDING');
    is(CloudJMTest::submit_calls($root), $calls + 1,
        'own requirements: condor_submit ran once');
    my ($file, $env) = CloudJMTest::captured($root, $calls);
    note("Captured submit description (cloud LRM, job with its own"
        . " requirements):\n$file");
    note("condor_submit environment knobs:\n$env");
    my @req = CloudJMTest::lines_matching($file, qr/^\s*requirements\s*=/i);
    is_deeply(\@req, [
            'Requirements =  Memory >= 2000',
            'requirements=(TARGET.HasCVMFS =?= True) || (OpSys == "LINUX")',
            $CLAUSE_LINE,
        ], 'own requirements: the user line survives, the clause comes last');
    like($file, qr/^\+WantCloudNode=True$/m, 'own requirements: marker');
    like($file, qr/^\+ProjectName="atlas"$/m, 'own requirements: other extras kept');
    like($file, qr/\+WantCloudNode=True\n\Q$CLAUSE_LINE\E\nX509UserProxy/,
        'own requirements: marker and clause are the last client extras');
    is($env, "_CONDOR_APPEND_REQUIREMENTS=$CLAUSE\n"
        . "_CONDOR_APPEND_REQ_VANILLA=$CLAUSE\n",
        'own requirements: APPEND knobs set for condor_submit');
    ok(!exists($ENV{_CONDOR_APPEND_REQ_VANILLA})
        && !exists($ENV{_CONDOR_APPEND_REQUIREMENTS}),
        'own requirements: knobs are gone from our environment afterwards');
    is(scalar(@{$desc->{condorsubmit}}), 2,
        'own requirements: the description is unchanged afterwards');
    like($chatter, qr/GRAM_SCRIPT_LOG:msg="jobmanager-cloud: adding/,
        'own requirements: the module logs what it adds');
    my %final = final_requirements($calls);
    note("final Requirements as condor_submit would build them: $final{final}");
    is($final{final}, '(((TARGET.HasCVMFS =?= True) || (OpSys == "LINUX"))'
        . ' && (TARGET.IsCloudNode =?= True)) && ((TARGET.IsCloudNode =?= True))',
        'own requirements: final expression keeps them whole, in parentheses');
    is($final{cloud}, 'true', 'own requirements: a cloud slot matches');
    is($final{site}, 'false', 'own requirements: a site slot does not,'
        . ' although the user wrote a top-level ||');
}

# --- the same job through condor and cloud: only the two lines differ -----
{
    my %job = (
        jobtype      => ['multiple'],
        count        => [2],
        xcount       => [4],
        minmemory    => [2000],
        maxwalltime  => [90],
        environment  => [['FOO', 'bar'], ['EMPTY', '']],
        condoros     => ['LINUX'],
        condorarch   => ['X86_64'],
        condorsubmit => [['+Site', '"T2_XX"']],
        uniqid       => ['same-uniq'],
    );
    my $calls = CloudJMTest::submit_calls($root);
    my $desc_condor = CloudJMTest::description($root, %job);
    my ($r1) = run_submit('Globus::GRAM::JobManager::condor', $desc_condor);
    my $desc_cloud = CloudJMTest::description($root, %job);
    my ($r2) = run_submit('Globus::GRAM::JobManager::cloud', $desc_cloud);
    is($r1->{JOB_ID}, sprintf('%d.000.000,%d.001.000', 4242 + $calls,
        4242 + $calls), 'count=2 (condor): two procs');
    is($r2->{JOB_ID}, sprintf('%d.000.000,%d.001.000', 4243 + $calls,
        4243 + $calls), 'count=2 (cloud): two procs');
    my ($plain) = CloudJMTest::captured($root, $calls);
    my ($cloud) = CloudJMTest::captured($root, $calls + 1);
    # Each job has its own directory; compare with that part written alike.
    my $dir_condor = $desc_condor->{jobdir}[0];
    my $dir_cloud = $desc_cloud->{jobdir}[0];
    $plain =~ s/\Q$dir_condor\E/JOBDIR/g;
    $cloud =~ s/\Q$dir_cloud\E/JOBDIR/g;
    my @plain = split(/\n/, $plain);
    my @cloud = split(/\n/, $cloud);
    my @added = grep { my $l = $_; !grep { $_ eq $l } @plain } @cloud;
    my @dropped = grep { my $l = $_; !grep { $_ eq $l } @cloud } @plain;
    is_deeply(\@added, ['+WantCloudNode=True', $CLAUSE_LINE],
        'condor vs cloud: cloud adds exactly the marker and the clause');
    is_deeply(\@dropped, [], 'condor vs cloud: cloud drops nothing');
    is(scalar(@cloud), scalar(@plain) + 2, 'condor vs cloud: two more lines');
    like($cloud, qr/^request_cpus=4 $/m, 'xcount reaches request_cpus');
    like($cloud, qr/^request_memory=2000$/m, 'min_memory reaches request_memory');
    like($cloud, qr/^Environment = FOO=bar;EMPTY=;PATH=\/bin:\/usr\/bin/m,
        'environment reaches Environment as condor.pm writes it');
    like($cloud, qr/^PeriodicRemove= \(JobStatus == 2\) && \( \(time\(\) - EnteredCurrentStatus\) > \(90 \* 60\)\)$/m,
        'max_wall_time reaches PeriodicRemove');
    is(scalar(() = $cloud =~ m/^queue 1$/mg), 2, 'count=2: two queue stanzas');
    is(scalar(() = $cloud =~ m/^Output = JOBDIR\/stdout\d+$/mg), 2,
        'count=2 multiple: one Output line per proc');
    like($cloud, qr/^Requirements = \(OpSys == "LINUX"\) && \(Arch == "X86_64"\) &&  Memory >= 2000$/m,
        'condor_os/condor_arch/min_memory requirements as condor.pm writes them');
    like($cloud, qr/^\+Site="T2_XX"$/m, 'client extra kept');
    my %plain_final = final_requirements($calls);
    my %cloud_final = final_requirements($calls + 1);
    is("$plain_final{cloud}/$plain_final{site}", 'true/true',
        'condor LRM job: may run on cloud and site slots');
    is("$cloud_final{cloud}/$cloud_final{site}", 'true/false',
        'cloud LRM job: cloud slots only, os/arch/memory still apply');
}

# --- keep-off for GRAM: the site's APPEND_REQ_VANILLA keeps jobmanager-condor
# jobs off cloud nodes; jobmanager-cloud replaces it for its own jobs.  (An
# environment knob stands in for the CE host's condor_config here: HTCondor
# reads _CONDOR_<knob> from the environment as configuration.)
{
    local $ENV{_CONDOR_APPEND_REQ_VANILLA} = '(TARGET.IsCloudNode =!= True)';
    my $calls = CloudJMTest::submit_calls($root);
    run_submit('Globus::GRAM::JobManager::condor',
        CloudJMTest::description($root));
    run_submit('Globus::GRAM::JobManager::cloud',
        CloudJMTest::description($root));
    my %condor = final_requirements($calls);
    my %cloud = final_requirements($calls + 1);
    is("$condor{cloud}/$condor{site}", 'false/true',
        'keep-off: a jobmanager-condor job stays off cloud slots');
    is("$cloud{cloud}/$cloud{site}", 'true/false',
        'keep-off: a jobmanager-cloud job still runs on cloud slots');
    is($ENV{_CONDOR_APPEND_REQ_VANILLA}, '(TARGET.IsCloudNode =!= True)',
        "keep-off: the site's knob is back after the cloud submit");
}

# --- a job with no requirements at all -----------------------------------
{
    my $calls = CloudJMTest::submit_calls($root);
    my ($result) = run_submit('Globus::GRAM::JobManager::cloud',
        CloudJMTest::description($root));
    is($result->{JOB_STATE}, 1, 'no requirements: submitted');
    my ($file) = CloudJMTest::captured($root, $calls);
    my @req = CloudJMTest::lines_matching($file, qr/^\s*requirements\s*=/i);
    is_deeply(\@req, [$CLAUSE_LINE],
        'no requirements: only the self-referencing clause (default True)');
    my %final = final_requirements($calls);
    like($final{final}, qr/^\(\(True\) && \(TARGET\.IsCloudNode =\?= True\)\)/,
        'no requirements: the self-reference falls back to True');
    is("$final{cloud}/$final{site}", 'true/false',
        'no requirements: cloud slot only');
}

# --- rejections: error returned, condor_submit never runs ------------------
my @rejections = (
    ['newline in an extra value', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['+Foo', "1\nRequirements = True"]]],
    ['carriage return in an extra key', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [["+Foo\r", '1']]],
    ['newline in an extra key', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [["+Foo\nqueue", '1']]],
    ['forced +Requirements', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['+Requirements', 'True']]],
    ['forced MY.Requirements', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['MY.Requirements', 'True']]],
    ['forced "+ requirements" with spaces', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [[' + requirements ', 'True']]],
    ['forced My . Requirements', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['My . Requirements', 'True']]],
    ['unbalanced: closes early', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['requirements', 'True) || (True']]],
    ['unbalanced: missing close', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['requirements', '((OpSys == "LINUX")']]],
    ['unbalanced: extra close', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['Requirements', '(Memory > 1))']]],
    ['unterminated string literal', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['requirements', 'OpSys == "LINUX']]],
    ['macro reference in requirements', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['x', 'True) || (True'], ['requirements', '$(x)']]],
    ['empty requirements', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['requirements', '  ']]],
    ['queue statement as a key', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['queue', '1']]],
    ['multi-line block opener as a key', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['foo @', 'end']]],
    ['include statement as a key', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['include', ': /etc/passwd']]],
    ['value ending in a backslash', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['+Foo', 'bar \\']]],
    ['key with an equals sign', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['a=b', 'c']]],
    ['extra that is not a pair', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['+Foo', '1', '2']]],
    ['too many extras', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [map { ["+A$_", $_] } 1 .. 300]],
    ['oversized extra value', 'RSL_SCHEDULER_SPECIFIC',
        condorsubmit => [['+Foo', 'x' x 9000]]],
    ['newline in an environment value', 'RSL_ENVIRONMENT',
        environment => [['FOO', "bar\nRequirements = True"]]],
    ['newline in an argument', 'RSL_ARGUMENTS',
        arguments => ["a\nqueue"]],
    ['newline in the directory', 'RSL_DIRECTORY',
        directory => ["/tmp\nRequirements = True"]],
    ['min_memory that is an expression', 'INVALID_MIN_MEMORY',
        minmemory => ['1) || (True']],
    ['max_wall_time that is not a number', 'INVALID_MAX_WALL_TIME',
        maxwalltime => ["60\nqueue"]],
    ['xcount that is not a number', 'RSL_SCHEDULER_SPECIFIC',
        xcount => ['4 || True']],
    ['condor_os that closes a string', 'RSL_SCHEDULER_SPECIFIC',
        condoros => ['LINUX") || (True']],
);
foreach my $case (@rejections)
{
    my ($name, $code, %override) = @{$case};
    my $calls = CloudJMTest::submit_calls($root);
    my $desc = CloudJMTest::description($root, %override);
    my ($result, $chatter) = run_submit('Globus::GRAM::JobManager::cloud',
        $desc);
    is_error($result, $code, "reject $name");
    is(CloudJMTest::submit_calls($root), $calls,
        "reject $name: condor_submit not run");
    ok(!-e "$desc->{jobdir}[0]/scheduler_condor_submit_script",
        "reject $name: no submit description written");
    like($chatter, qr/^GRAM_SCRIPT_GT3_FAILURE_MESSAGE:[\x20-\x7e]+$/m,
        "reject $name: one printable failure message line");
}

# --- allowed edge cases ----------------------------------------------------
foreach my $case (
    ['parentheses inside a string literal',
        ['requirements', 'regexp("^(a|b", Machine) || (Name == ")")']],
    ['escaped quote inside a string literal',
        ['requirements', '(Owner == "a\\"b)") && True']],
    ['a queue attribute with +', ['+queue', '"cloud"']],
    ['macro reference in another command', ['output', 'out.$(Process)']],
    ['user sets the marker to False', ['+WantCloudNode', 'False']])
{
    my ($name, $tuple) = @{$case};
    my $calls = CloudJMTest::submit_calls($root);
    my ($result) = run_submit('Globus::GRAM::JobManager::cloud',
        CloudJMTest::description($root, condorsubmit => [$tuple]));
    is(ref($result), 'HASH', "allow $name") or diag(explain($result));
    my ($file) = CloudJMTest::captured($root, $calls);
    like($file, qr/\+WantCloudNode=True\n\Q$CLAUSE_LINE\E\n/,
        "allow $name: marker and clause still last");
}

# --- globus-cloud.conf -----------------------------------------------------
{
    CloudJMTest::write_cloud_conf($root, {
        cloud_attribute => 'IsBurstNode',
        cloud_marker => 'WantBurstNode',
        site_append_requirements => '(TARGET.HasCVMFS =?= True)',
    });
    my $calls = CloudJMTest::submit_calls($root);
    my ($result) = run_submit('Globus::GRAM::JobManager::cloud',
        CloudJMTest::description($root));
    is($result->{JOB_STATE}, 1, 'conf: submitted with configured names');
    my ($file, $env) = CloudJMTest::captured($root, $calls);
    like($file, qr/^\+WantBurstNode=True\nRequirements=\(\$\(Requirements:True\)\) && \(TARGET\.IsBurstNode =\?= True\)$/m,
        'conf: configured attribute and marker');
    unlike($file, qr/IsCloudNode|WantCloudNode/, 'conf: defaults not used');
    like($env, qr/^_CONDOR_APPEND_REQ_VANILLA=\(\(TARGET\.HasCVMFS =\?= True\)\) && \(TARGET\.IsBurstNode =\?= True\)$/m,
        'conf: site clauses repeated in APPEND_REQ_VANILLA');

    foreach my $bad (
        [{cloud_attribute => 'Is Cloud'}, 'cloud_attribute'],
        [{cloud_marker => '+Want'}, 'cloud_marker'],
        [{site_append_requirements => 'True) || (True'},
            'site_append_requirements'])
    {
        my ($settings, $field) = @{$bad};
        CloudJMTest::write_cloud_conf($root, $settings);
        $calls = CloudJMTest::submit_calls($root);
        my ($res, $chatter) = run_submit('Globus::GRAM::JobManager::cloud',
            CloudJMTest::description($root));
        is_error($res, 47, "conf: bad $field");
        like($chatter, qr/GT3_FAILURE_MESSAGE:\Q$root\E\/etc\/globus\/globus-cloud\.conf: \Q$field\E: /,
            "conf: bad $field: message names the file and the field");
        is(CloudJMTest::submit_calls($root), $calls,
            "conf: bad $field: condor_submit not run");
    }
    # Blanks around "=" are fine; misspelt keys and stray lines are errors
    # naming the file and line, never silently ignored.
    my $conf = "$root/etc/globus/globus-cloud.conf";
    CloudJMTest::write_file($conf, "# comment\n\n  cloud_attribute = \"IsBurstNode\"  \n");
    $calls = CloudJMTest::submit_calls($root);
    ($result) = run_submit('Globus::GRAM::JobManager::cloud',
        CloudJMTest::description($root));
    my ($spaced) = CloudJMTest::captured($root, $calls);
    like($spaced, qr/&& \(TARGET\.IsBurstNode =\?= True\)$/m,
        'conf: blanks around "=" are allowed');
    foreach my $bad (
        ["cloud_atribute=\"IsBurstNode\"\n", qr/:1: unknown setting "cloud_atribute"/,
            'misspelt key'],
        ["# ok\ncloud_marker \"WantBurst\"\n", qr/:2: not a key="value" line/,
            'line without "="'])
    {
        my ($text, $want, $name) = @{$bad};
        CloudJMTest::write_file($conf, $text);
        $calls = CloudJMTest::submit_calls($root);
        my ($res, $chatter) = run_submit('Globus::GRAM::JobManager::cloud',
            CloudJMTest::description($root));
        is_error($res, 47, "conf: $name");
        like($chatter, qr/GT3_FAILURE_MESSAGE:\Q$conf\E$want/,
            "conf: $name: message names the file and line");
        is(CloudJMTest::submit_calls($root), $calls,
            "conf: $name: condor_submit not run");
    }

    # The shipped file spells out the defaults.
    require File::Copy;
    File::Copy::copy("$CloudJMTest::MODULE_DIR/globus-cloud.conf",
        "$root/etc/globus/globus-cloud.conf") or die "copy: $!\n";
    $calls = CloudJMTest::submit_calls($root);
    ($result) = run_submit('Globus::GRAM::JobManager::cloud',
        CloudJMTest::description($root));
    my ($shipped, $shipped_env) = CloudJMTest::captured($root, $calls);
    like($shipped, qr/^\+WantCloudNode=True\n\Q$CLAUSE_LINE\E$/m,
        'conf: the shipped globus-cloud.conf gives the defaults');
    like($shipped_env, qr/^_CONDOR_APPEND_REQ_VANILLA=\Q$CLAUSE\E$/m,
        'conf: the shipped file adds no site clauses');

    CloudJMTest::write_cloud_conf($root, undef);
    $calls = CloudJMTest::submit_calls($root);
    ($result) = run_submit('Globus::GRAM::JobManager::cloud',
        CloudJMTest::description($root));
    my ($file2) = CloudJMTest::captured($root, $calls);
    like($file2, qr/^\Q$CLAUSE_LINE\E$/m, 'conf: missing file means defaults');
}

# --- condor_submit failure is reported as condor.pm does ------------------
{
    local $ENV{FAKE_CONDOR_SUBMIT_FAIL} = 'ERROR: no schedd';
    my ($result) = run_submit('Globus::GRAM::JobManager::cloud',
        CloudJMTest::description($root));
    is_error($result, 17, 'condor_submit failure: JOB_EXECUTION_FAILED');
}

done_testing();

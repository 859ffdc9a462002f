#!/usr/bin/perl
# jobmanager-cloud: random condor_submit extras against the validator of
# Globus::GRAM::JobManager::cloud (its parser of outside data).  Whatever it
# is given it must not die, and what it accepts must be safe by an
# independent check: no line breaks, no trailing backslash, requirements
# without "$" whose parentheses balance once string literals are removed.
# JM_FUZZ_SEED and JM_FUZZ_ITERATIONS replay or lengthen a run.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use CloudJMTest;

plan(skip_all => 'Debian GRAM modules are not installed'
    . ' (globus-gram-job-manager-condor; tools/install-deps)')
    unless CloudJMTest::have_gram();

my $root;
BEGIN
{
    $root = CloudJMTest::scratch() if CloudJMTest::have_gram();
    $ENV{GRAM_TEST_SYSCONFDIR} = defined($root) ? "$root/etc" : '/nonexistent';
}
use lib $CloudJMTest::MODULE_DIR;
require GramTestSysconf;
require Globus::GRAM::JobManager::cloud;

my $seed = defined($ENV{JM_FUZZ_SEED}) ? int($ENV{JM_FUZZ_SEED}) : 20261122;
my $iterations = $ENV{JM_FUZZ_ITERATIONS} || 4000;
srand($seed);
note("seed $seed, $iterations iterations");

my @pieces = ('(', ')', '"', "'", '\\', '$', '$(x)', ' ', 'True', '||', '&&',
    '=?=', "\n", "\r", "\0", 'TARGET.', 'Memory', '1', ')(', '"("', "\x{e9}",
    '#', '@=end', '=', '+', 'MY.', 'requirements', 'queue');
my @keys = ('requirements', 'Requirements', ' requirements ', '+Requirements',
    'MY.Requirements', '+WantCloudNode', 'output', 'queue', '+Foo', 'a=b',
    'x @', "+A\n", '+ProjectName', 'include', 'My . requirements', '');

sub random_text
{
    my $n = int(rand(12));
    return join('', map { $pieces[int(rand(@pieces))] } 1 .. $n);
}

# Independent of the module's scanner: drop string literals with a regex,
# then peel innermost "(...)" pairs until none is left.
sub balanced_without_strings
{
    my $text = shift;
    $text =~ s/"(?:[^"\\]|\\.)*"//gs;
    $text =~ s/'(?:[^'\\]|\\.)*'//gs;
    return 0 if $text =~ m/["']/;
    1 while $text =~ s/\([^()]*\)//g;
    return $text !~ m/[()]/;
}

my ($accepted, $rejected, $died, $unsafe) = (0, 0, 0, 0);
for my $i (1 .. $iterations)
{
    my @extras = map { [ $keys[int(rand(@keys))], random_text() ] }
        1 .. 1 + int(rand(3));
    my $problem = eval {
        Globus::GRAM::JobManager::cloud::extras_problem(\@extras)
    };
    if ($@)
    {
        $died++;
        diag("iteration $i died: $@");
        next;
    }
    if (defined($problem))
    {
        $rejected++;
        $unsafe++, diag("iteration $i: bad rejection") unless
            ref($problem->[0]) && $problem->[0]->value() == 134
            && $problem->[1] =~ m/^RSL attribute condor_submit/;
        next;
    }
    $accepted++;
    foreach my $pair (@extras)
    {
        my ($k, $v) = @{$pair};
        my $safe = "$k$v" !~ m/[\r\n\0]/ && $v !~ m/\\\s*$/
            && $k !~ m/^\s*(\+|my\s*\.)\s*requirements\s*$/i
            && $k !~ m/^\s*(queue|include)\s*$/i && $k !~ m/[=@]/;
        if ($k =~ m/^\s*requirements\s*$/i)
        {
            $safe &&= $v !~ m/\$/ && $v =~ m/\S/ && balanced_without_strings($v);
        }
        if (!$safe)
        {
            $unsafe++;
            diag("iteration $i accepted an unsafe pair: "
                . Globus::GRAM::JobManager::cloud::printable("$k => $v", 200));
        }
    }
}
note("accepted $accepted, rejected $rejected");
is($died, 0, 'the validator never dies');
is($unsafe, 0, 'every accepted pair is safe, every rejection is error 134');
ok($accepted > $iterations / 50, "some random extras are accepted ($accepted)");
ok($rejected > $iterations / 2, "most random extras are rejected ($rejected)");

# Whole descriptions with random nesting: description_problem never dies.
my $died_desc = 0;
for my $i (1 .. 500)
{
    my %desc = map { $_ => [ rand() < 0.3 ? [ random_text(), random_text() ]
                                          : random_text() ] }
        qw(environment arguments directory minmemory xcount condoros count);
    $desc{condorsubmit} = rand() < 0.5 ? [ [ '+A', random_text() ] ] : random_text();
    eval { Globus::GRAM::JobManager::cloud::description_problem(\%desc) };
    $died_desc++ if $@;
}
is($died_desc, 0, 'description_problem never dies on random descriptions');

# Random globus-cloud.conf files: cloud_settings never dies, and whatever it
# accepts gives attribute names that are safe to put in the clause.
my ($conf_died, $conf_bad, $conf_ok) = (0, 0, 0);
my @conf_pieces = ('cloud_attribute', 'cloud_marker', 'site_append_requirements',
    '=', '"', ' ', "\n", '#', 'IsCloudNode', 'Is Cloud', '(', ')', '$(x)',
    'True', "\r\n", 'bogus', '+', "\t", '""');
for my $i (1 .. 500)
{
    my $text = join('', map { $conf_pieces[int(rand(@conf_pieces))] }
        1 .. int(rand(16)));
    CloudJMTest::write_file("$root/etc/globus/globus-cloud.conf", $text);
    my ($settings, $error) = eval {
        Globus::GRAM::JobManager::cloud::cloud_settings()
    };
    if ($@) { $conf_died++; diag("conf $i died: $@"); next; }
    if (defined($settings))
    {
        $conf_ok++;
        $conf_bad++ unless $settings->{cloud_attribute} =~ m/^\w+$/
            && $settings->{cloud_marker} =~ m/^\w+$/
            && $settings->{site_append_requirements} !~ m/[\$\r\n]/;
    }
    elsif (!defined($error) || $error !~ m/globus-cloud\.conf/)
    {
        $conf_bad++;
        diag("conf $i: error without the file name");
    }
}
unlink("$root/etc/globus/globus-cloud.conf");
note("random configuration files accepted: $conf_ok of 500");
is($conf_died, 0, 'cloud_settings never dies on random files');
is($conf_bad, 0, 'accepted settings are safe, errors name the file');

done_testing();

# Globus::GRAM::JobManager::cloud -- the "cloud" GRAM LRM of cloudburst.
#
# It is Debian's Globus::GRAM::JobManager::condor with one difference: every
# job it submits asks for a cloud node.  It overrides only submit(), which
#   1. checks the job description for input that could escape or drop the
#      cloud clause (line breaks, forced requirements, unbalanced parentheses,
#      macro references in requirements, submit-language keywords), and
#      answers such a job with a GRAM error before condor_submit runs;
#   2. appends two client extras after the user's own:
#          +WantCloudNode=True
#          Requirements=($(Requirements:True)) && (TARGET.IsCloudNode =?= True)
#      condor_submit expands the self-reference to whatever requirements were
#      in force (condor.pm's own, or the user's), so they stay intact and
#      parenthesised;
#   3. sets _CONDOR_APPEND_REQ_VANILLA/_CONDOR_APPEND_REQUIREMENTS for the
#      condor_submit it runs, which replaces a site's "keep ordinary jobs off
#      cloud nodes" APPEND_REQ_VANILLA for this job manager only.
# Status, cancel and everything else are inherited unchanged.
#
# Settings come from ${sysconfdir}/globus/globus-cloud.conf (Globus' own
# sysconfdir, where globus-condor.conf lives); the file is optional.
# See jobmanager-cloud(7).

use strict;
use warnings;

use Globus::GRAM::Error;
use Globus::Core::Paths;
use Globus::GRAM::JobManager::condor;

package Globus::GRAM::JobManager::cloud;

our @ISA = ('Globus::GRAM::JobManager::condor');

# Where the settings live: evaluated by Globus::Core::Config against
# Globus::Core::Paths, like the condor module's own configuration.
our $CONFIG_PATH = '${sysconfdir}/globus/globus-cloud.conf';

# Limits on what a client may send as condor_submit extras.  Real jobs use a
# handful of short tuples; anything far larger is refused rather than parsed.
use constant MAX_EXTRAS      => 256;
use constant MAX_KEY_LENGTH  => 128;
use constant MAX_VALUE_BYTES => 8192;
use constant MAX_DESCRIPTION_VALUE_BYTES => 65536;

# Submit-language words that are statements, not assignments: as a key they
# could queue the job before the cloud clause is written, or pull in text.
my %RESERVED_KEYS = map { $_ => 1 }
    qw(queue include if elif else endif error warning use);

# Description attributes whose value is a number in the submit file.
my %NUMERIC_ATTRIBUTES = (
    count       => \&Globus::GRAM::Error::INVALID_COUNT,
    minmemory   => \&Globus::GRAM::Error::INVALID_MIN_MEMORY,
    maxwalltime => \&Globus::GRAM::Error::INVALID_MAX_WALL_TIME,
    xcount      => \&Globus::GRAM::Error::RSL_SCHEDULER_SPECIFIC,
);

# The error a line break in each description attribute earns; attributes not
# listed get the scheduler-specific one.
my %LINE_BREAK_ERRORS = (
    arguments   => \&Globus::GRAM::Error::RSL_ARGUMENTS,
    environment => \&Globus::GRAM::Error::RSL_ENVIRONMENT,
    executable  => \&Globus::GRAM::Error::RSL_EXECUTABLE,
    directory   => \&Globus::GRAM::Error::RSL_DIRECTORY,
    stdin       => \&Globus::GRAM::Error::RSL_STDIN,
    stdout      => \&Globus::GRAM::Error::RSL_STDOUT,
    stderr      => \&Globus::GRAM::Error::RSL_STDERR,
    %NUMERIC_ATTRIBUTES,
);

# RSL attribute names as users write them; the job manager hands them over
# canonical (lower case, no underscores).
my %RSL_NAMES = (
    condorsubmit => 'condor_submit',
    condoros     => 'condor_os',
    condorarch   => 'condor_arch',
    minmemory    => 'min_memory',
    maxwalltime  => 'max_wall_time',
);

sub rsl_name
{
    my $attr = shift;
    return $RSL_NAMES{$attr} || $attr;
}

# Read globus-cloud.conf.  Returns ($settings, undef) or (undef, $message).
# The file uses the KEY="value" lines of the other Globus LRM files, but is
# read strictly: Globus::Core::Config would keep 'key ' (with the blank) as a
# different key and so silently ignore a misspelt line.  Unknown keys and
# lines that are not KEY="value" are errors naming the file and line.
use constant MAX_CONFIG_BYTES => 65536;

sub cloud_settings
{
    my %settings = (
        cloud_attribute          => 'IsCloudNode',
        cloud_marker             => 'WantCloudNode',
        site_append_requirements => '',
    );
    my $path = Globus::Core::Paths::eval_path($CONFIG_PATH);

    # The file is optional.
    if (-e $path)
    {
        my $fh;
        return (undef, "$path: $!") unless open($fh, '<', $path);
        my $size = -s $fh;
        if ($size > MAX_CONFIG_BYTES)
        {
            close($fh);
            return (undef, "$path: larger than " . MAX_CONFIG_BYTES
                . " bytes");
        }
        my $lineno = 0;
        while (my $line = <$fh>)
        {
            $lineno++;
            next if $line =~ m/^\s*(#|$)/;
            if ($line !~ m/^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"?(.*?)"?\s*$/)
            {
                close($fh);
                return (undef, "$path:$lineno: not a key=\"value\" line");
            }
            my ($key, $value) = ($1, $2);
            if (!exists($settings{$key}))
            {
                close($fh);
                return (undef, "$path:$lineno: unknown setting \""
                    . printable($key) . '" (known: '
                    . join(', ', sort keys %settings) . ')');
            }
            $settings{$key} = $value;
        }
        close($fh);
    }
    foreach my $key ('cloud_attribute', 'cloud_marker')
    {
        if ($settings{$key} !~ m/^[A-Za-z_][A-Za-z0-9_]{0,63}$/)
        {
            return (undef, "$path: $key: \"" . printable($settings{$key})
                . "\" is not a ClassAd attribute name");
        }
    }
    my $extra = $settings{site_append_requirements};
    if ($extra ne '')
    {
        my $why = requirement_problem($extra);
        return (undef, "$path: site_append_requirements: $why") if $why;
    }
    return (\%settings, undef);
}

# Text safe to put in one log or failure line, at most $max characters of it
# (default 80: enough to recognise a quoted value).
sub printable
{
    my ($text, $max) = @_;

    $max = 80 unless defined($max);
    $text = '' unless defined($text);
    $text = substr($text, 0, $max) . '...' if length($text) > $max;
    $text =~ s/([^\x20-\x7e])/sprintf('\\x%02x', ord($1))/ge;
    return $text;
}

# Why a requirements expression cannot be wrapped safely, or undef if it can.
# The expression is scanned like a ClassAd lexer would: string literals
# ("...") and quoted attribute names ('...') may hold anything, outside them
# parentheses must balance and never close more than they opened.
sub requirement_problem
{
    my $expr = shift;
    my $depth = 0;
    my $quote = '';
    my $escaped = 0;

    return 'is empty' if $expr =~ m/^\s*$/;
    # condor_submit expands $(...), $ENV(...), $$(...) everywhere, also
    # inside string literals, after this check: a macro could carry a ')'.
    return 'uses a "$" macro reference' if index($expr, '$') >= 0;

    foreach my $c (split(//, $expr))
    {
        if ($quote ne '')
        {
            if ($escaped)              { $escaped = 0; }
            elsif ($c eq '\\')         { $escaped = 1; }
            elsif ($c eq $quote)       { $quote = ''; }
        }
        elsif ($c eq '"' || $c eq "'") { $quote = $c; }
        elsif ($c eq '(')              { $depth++; }
        elsif ($c eq ')')
        {
            $depth--;
            return 'closes a parenthesis it did not open' if $depth < 0;
        }
    }
    return 'has an unterminated string literal' if $quote ne '';
    return 'has unbalanced parentheses' if $depth != 0;
    return undef;
}

# Check the whole description.  Returns undef, or [error object, message].
sub description_problem
{
    my $description = shift;

    foreach my $attr (sort keys %{$description})
    {
        next if $attr =~ m/^_/;    # the description object's own fields
        next if $attr eq 'condorsubmit';    # extras_problem, pair by pair
        my @pending = ($description->{$attr});
        while (@pending)
        {
            my $value = shift(@pending);
            if (ref($value) eq 'ARRAY')
            {
                push(@pending, @{$value});
                next;
            }
            next if !defined($value) || ref($value);
            my $error = $LINE_BREAK_ERRORS{$attr}
                || \&Globus::GRAM::Error::RSL_SCHEDULER_SPECIFIC;
            if ($value =~ m/[\r\n\0]/)
            {
                return [$error->(),
                    "RSL attribute " . rsl_name($attr)
                    . ": a value contains a line break"];
            }
            if (length($value) > MAX_DESCRIPTION_VALUE_BYTES)
            {
                return [$error->(), "RSL attribute " . rsl_name($attr)
                    . ": a value is longer"
                    . " than " . MAX_DESCRIPTION_VALUE_BYTES . " bytes"];
            }
        }
    }
    foreach my $attr (sort keys %NUMERIC_ATTRIBUTES)
    {
        next unless exists($description->{$attr});
        foreach my $value (@{$description->{$attr}})
        {
            if (ref($value) || !defined($value)
                || $value !~ m/^\s*[0-9]{1,9}\s*$/)
            {
                return [$NUMERIC_ATTRIBUTES{$attr}->(),
                    "RSL attribute " . rsl_name($attr) . ": \""
                    . printable($value)
                    . "\" is not a whole number"];
            }
        }
    }
    foreach my $attr ('condoros', 'condorarch')
    {
        next unless exists($description->{$attr});
        foreach my $value (@{$description->{$attr}})
        {
            if (ref($value) || !defined($value)
                || $value !~ m/^[A-Za-z0-9_.+-]{1,64}$/)
            {
                return [Globus::GRAM::Error::RSL_SCHEDULER_SPECIFIC(),
                    "RSL attribute " . rsl_name($attr) . ": \""
                    . printable($value)
                    . "\" is not a plain name"];
            }
        }
    }
    return extras_problem($description->{condorsubmit});
}

# Check the client's condor_submit=(key value)... extras.
sub extras_problem
{
    my $extras = shift;
    my $index = 0;

    return undef unless defined($extras);
    return [Globus::GRAM::Error::RSL_SCHEDULER_SPECIFIC(),
        'RSL attribute condor_submit: not a list of (name value) pairs']
        unless ref($extras) eq 'ARRAY';
    if (scalar(@{$extras}) > MAX_EXTRAS)
    {
        return [Globus::GRAM::Error::RSL_SCHEDULER_SPECIFIC(),
            'RSL attribute condor_submit: more than ' . MAX_EXTRAS
            . ' pairs'];
    }
    foreach my $tuple (@{$extras})
    {
        $index++;
        my $where = "RSL attribute condor_submit, pair $index";
        if (ref($tuple) ne 'ARRAY' || scalar(@{$tuple}) != 2
            || grep { !defined($_) || ref($_) } @{$tuple})
        {
            return [Globus::GRAM::Error::RSL_SCHEDULER_SPECIFIC(),
                "$where: not a (name value) pair"];
        }
        my ($key, $value) = @{$tuple};
        my $why;
        if ($key =~ m/[\r\n\0]/ || $value =~ m/[\r\n\0]/)
        {
            $why = 'contains a line break';
        }
        elsif (length($key) > MAX_KEY_LENGTH
            || length($value) > MAX_VALUE_BYTES)
        {
            $why = 'is too long';
        }
        elsif ($key =~ m/^\s*(\+|my\s*\.)\s*requirements\s*$/i)
        {
            $why = "forces \"$key\", which would replace the cloud"
                . ' requirement; use "requirements" instead';
        }
        elsif ($key !~ m/^\s*(\+\s*|my\s*\.\s*)?([A-Za-z_][A-Za-z0-9_.]*)\s*$/)
        {
            $why = '"' . printable($key) . '" is not a submit command or'
                . ' attribute name';
        }
        elsif ($RESERVED_KEYS{lc($2)} && !defined($1))
        {
            $why = "\"$key\" is a submit statement, not an assignment";
        }
        elsif ($value =~ m/\\\s*$/)
        {
            $why = 'ends in a backslash, which would continue onto the'
                . ' next line';
        }
        elsif ($key =~ m/^\s*requirements\s*$/i)
        {
            my $problem = requirement_problem($value);
            $why = "requirements \"" . printable($value) . "\" $problem"
                if $problem;
        }
        if (defined($why))
        {
            return [Globus::GRAM::Error::RSL_SCHEDULER_SPECIFIC(),
                "$where: $why"];
        }
    }
    return undef;
}

sub submit
{
    my $self = shift;
    my $description = $self->{JobDescription};

    my ($settings, $config_error) = cloud_settings();
    if (!defined($settings))
    {
        $self->log("jobmanager-cloud: $config_error");
        $self->respond({GT3_FAILURE_MESSAGE => printable($config_error, 1024)});
        return Globus::GRAM::Error::GATEKEEPER_MISCONFIGURED();
    }

    my $problem = description_problem($description);
    if (defined($problem))
    {
        my ($error, $message) = @{$problem};
        $self->log("jobmanager-cloud: rejected: $message");
        $self->respond({GT3_FAILURE_MESSAGE => printable($message, 1024)});
        return $error;
    }

    my $clause = "(TARGET.$settings->{cloud_attribute} =?= True)";
    my $append = $clause;
    if ($settings->{site_append_requirements} ne '')
    {
        $append = "($settings->{site_append_requirements}) && $clause";
    }

    # After the client's extras, so nothing the client wrote comes later.
    my @extras = @{$description->{condorsubmit} || []};
    push(@extras,
        ["+$settings->{cloud_marker}", 'True'],
        ['Requirements', "(\$(Requirements:True)) && $clause"]);

    # local: the description and the environment are as before on return,
    # whatever the parent does.
    local $description->{condorsubmit} = \@extras;
    local $ENV{_CONDOR_APPEND_REQ_VANILLA} = $append;
    local $ENV{_CONDOR_APPEND_REQUIREMENTS} = $append;

    $self->log("jobmanager-cloud: adding $clause");
    return $self->SUPER::submit(@_);
}

1;

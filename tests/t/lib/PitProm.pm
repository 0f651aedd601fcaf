package PitProm;

# A strict reader of Prometheus' text exposition format (0.0.4), for the
# tests of pit_auth_stats: it checks the grammar of metric and label names,
# label value escapes, HELP and TYPE before any sample of their family and
# at most once each, a family's samples together, counters named *_total,
# no series twice, float values, and a newline at the end.  Core Perl only:
# Debian's promtool comes with the whole Prometheus server (~100 MB).

use strict;
use warnings;

my $NAME  = qr/[a-zA-Z_:][a-zA-Z0-9_:]*/;
my $LABEL = qr/[a-zA-Z_][a-zA-Z0-9_]*/;
my $FLOAT = qr/[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?Inf|NaN/;
my %TYPES = map { $_ => 1 } qw(counter gauge histogram summary untyped);

# parse($text): (\%families, @errors).  A family: { type, help,
# samples => { 'name{a="b",...}' (labels sorted, unescaped) => value } }.
sub parse {
    my ($text) = @_;
    my (%fam, @err, %done, $current);
    push @err, 'no newline at the end' if length $text && $text !~ /\n\z/;
    my $n = 0;
    for my $line (split /\n/, $text) {
        $n++;
        my $at = "line $n";
        next if $line eq '';
        if ($line =~ /^#\s*(HELP|TYPE)\s+(.*)$/) {
            my ($kw, $rest) = ($1, $2);
            my ($name, $arg) = $rest =~ /^(\S+)(?:\s+(.*))?$/
                or do { push @err, "$at: $kw without a name"; next };
            push @err, "$at: bad metric name '$name'"
                unless $name =~ /^$NAME$/;
            my $f = $fam{$name} //= { samples => {} };
            push @err, "$at: $kw of '$name' after its samples"
                if %{ $f->{samples} };
            if ($kw eq 'HELP') {
                push @err, "$at: second HELP for '$name'"
                    if defined $f->{help};
                $arg //= '';
                push @err, "$at: bad escape in HELP of '$name'"
                    unless $arg =~ /^(?:[^\\]|\\[\\n])*$/;
                $f->{help} = $arg;
            } else {
                push @err, "$at: second TYPE for '$name'"
                    if defined $f->{type};
                push @err, "$at: bad type '" . ($arg // '') . "'"
                    unless defined $arg && $TYPES{$arg};
                $f->{type} = $arg;
                push @err, "$at: counter '$name' does not end in _total"
                    if ($arg // '') eq 'counter' && $name !~ /_total$/;
            }
            next;
        }
        next if $line =~ /^#/;
        my ($name, $rest) = $line =~ /^($NAME)(.*)$/
            or do { push @err, "$at: bad sample '$line'"; next };
        my %labels;
        if ($rest =~ s/^\{//) {
            while ($rest !~ s/^\}//) {
                $rest =~ s/^($LABEL)="((?:[^"\\\n]|\\.)*)"//
                    or do { push @err, "$at: bad labels in '$line'"; last };
                my ($l, $v) = ($1, $2);
                push @err, "$at: reserved label name '$l'" if $l =~ /^__/;
                push @err, "$at: label '$l' twice" if exists $labels{$l};
                push @err, "$at: bad escape in label '$l'"
                    unless $v =~ /^(?:[^\\]|\\[\\"n])*$/;
                $v =~ s/\\(.)/$1 eq 'n' ? "\n" : $1/ge;
                $labels{$l} = $v;
                $rest =~ s/^,(?=\S)// or $rest =~ /^\}/
                    or do { push @err, "$at: bad labels in '$line'"; last };
            }
        }
        my ($value) = $rest =~ /^ ($FLOAT)(?: -?\d+)?$/
            or do { push @err, "$at: bad value in '$line'"; next };
        if (!defined $current || $current ne $name) {
            push @err, "$at: samples of '$name' are not together"
                if $done{$name};
            $done{$current} = 1 if defined $current;
            $current = $name;
        }
        my $f = $fam{$name} //= { samples => {} };
        push @err, "$at: '$name' has no TYPE before its samples"
            unless defined $f->{type};
        push @err, "$at: '$name' has no HELP before its samples"
            unless defined $f->{help};
        my $key = series($name, %labels);
        push @err, "$at: series '$key' twice"
            if exists $f->{samples}{$key};
        $f->{samples}{$key} = $value;
    }
    return (\%fam, @err);
}

# The key of a series: name{a="x",b="y"}, labels sorted, values raw.
sub series {
    my ($name, %l) = @_;
    return $name unless %l;
    return "$name\{" . join(',', map { "$_=\"$l{$_}\"" } sort keys %l) . '}';
}

# The value of one series, or undef.
sub value {
    my ($fam, $name, %l) = @_;
    my $f = $fam->{$name} or return undef;
    return $f->{samples}{ series($name, %l) };
}

1;

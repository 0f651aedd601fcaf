#!/usr/bin/perl
# pit_auth_openapi with HighLevel's own specs (issue #5, part 5): for every
# operation of contacts, calendars and conversations, a token holding
# exactly that operation's scope reaches the upstream, and a token holding
# every other scope of that file gets 403 insufficient_scope naming the
# missing one.  The expected scopes are read from the files here, in Perl,
# independently of the C parser.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use PitTest;
use PitModule;

my $data = PitTest::top() . '/tests/data/highlevel';
my @files = qw(contacts calendars conversations);
my @methods = qw(get put post delete options head patch trace);

my $t = PitModule->new(server => <<"END");
        add_header X-Status \$pit_auth_status always;
        add_header X-Route \$pit_route always;
        add_header X-Required \$pit_required_scope always;
        location / {
            pit_auth on;
            pit_auth_openapi $data/contacts.json $data/calendars.json
                             $data/conversations.json;
            proxy_pass %%UP%%;
        }
END

# The scope an operation needs, from its security block: undef for none.
# HighLevel's operations name one scope (sometimes under two schemes).
sub op_scope {
    my ($op) = @_;
    my $sec = $op->{security};
    return undef if !$sec || !@$sec;
    my %names;
    for my $alt (@$sec) {
        my @s = map { @$_ } values %$alt;
        return undef unless @s;         # an empty alternative: nothing
        $names{$_} = 1 for @s;
    }
    my @n = keys %names;
    die "expected one scope, got @n" unless @n == 1;
    return $n[0];
}

my $total = 0;

for my $f (@files) {
    my $spec = JSON::PP->new->decode(PitTest::slurp("$data/$f.json"));
    my (@ops, %scopes);
    for my $tmpl (sort keys %{ $spec->{paths} }) {
        for my $m (@methods) {
            my $op = $spec->{paths}{$tmpl}{$m} or next;
            my $s = op_scope($op);
            push @ops, [uc $m, $tmpl, $s];
            $scopes{$s} = 1 if defined $s;
        }
    }
    my @all = sort keys %scopes;
    ok(@all >= 2, "$f: " . @ops . ' operations, scopes ' . join(' ', @all));

    # one token per scope, and one per scope with every other scope
    my (%only, %except);
    for my $s (@all) {
        (undef, $only{$s}) = $t->token(scopes => [$s]);
        (undef, $except{$s}) = $t->token(scopes => [grep { $_ ne $s } @all]);
    }

    for my $op (@ops) {
        my ($m, $tmpl, $s) = @$op;
        (my $path = $tmpl) =~ s/\{[^}]+\}/p-1_x/g;
        my $name = "$f: $m $tmpl";
        $total++;

        if (!defined $s) {

            # no scope needed: any valid token passes
            my $r = req($m, $path, $only{ $all[0] });
            is($r->{status}, 200, "$name: no scope needed, any token passes");
            my $r2 = req($m, $path, 'pit-00000000-0000-4000-8000-000000000000');
            is($r2->{status}, 401, "$name: but a token is");
            next;
        }

        my $r = req($m, $path, $only{$s});
        subtest "$name: $s alone passes" => sub {
            is($r->{status}, 200, 'status');
            like($r->{body}, qr/^uri=\Q$path\E$/m, 'the upstream saw it');
            is(PitTest::HTTP::header($r, 'X-Route'), $tmpl, '$pit_route');
            is(PitTest::HTTP::header($r, 'X-Required'), $s,
               '$pit_required_scope');
        };

        $r = req($m, $path, $except{$s});
        subtest "$name: every other scope is not enough" => sub {
            is($r->{status}, 403, 'status');
            is(PitTest::HTTP::header($r, 'X-Status'), 'insufficient_scope',
               '$pit_auth_status');
            is(PitTest::HTTP::header($r, 'WWW-Authenticate'),
               qq{Bearer realm="api", error="insufficient_scope", }
               . qq{scope="$s"}, 'names the missing scope');
            unlike($r->{body}, qr/^uri=/m, 'the upstream saw nothing');
        };
    }
}

is($total, 102, 'every operation of the three files was tried');

done_testing();

sub req {
    my ($m, $path, $tok) = @_;
    return PitTest::HTTP::request($t->port, "$m $path",
                                  headers => [Authorization => "Bearer $tok"]);
}

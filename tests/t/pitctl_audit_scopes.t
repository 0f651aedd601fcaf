#!/usr/bin/perl
# pitctl audit (one entry per action, newest first, --limit, per id, never
# a token in the stream) and pitctl scopes (the catalogue with labels).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use PitTest;

plan skip_all => 'build/pitctl not built (make build/pitctl)'
    unless -x PitTest::Pitctl::bin();

my $r = PitTest::Redis->new;
my $TOKEN_RE = qr/pit-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
my @tokens;

sub pc { PitTest::Pitctl::run($r, @_) }
sub pj { PitTest::Pitctl::json($r, @_) }

sub fails {
    my ($want, $what, @args) = @_;
    my ($rc, $out, $err) = pc(@args);
    ok($rc == $want && $err =~ /^pitctl: \S/ && $out eq '',
       "$what: exit $want, message on stderr")
        or diag "rc=$rc\nstdout=$out\nstderr=$err";
}

# Runs a command and keeps every token it printed.
sub step {
    my ($rc, $out, $err) = pc(@_);
    is $rc, 0, "@_[0, 1]: exit 0" or diag $err;
    push @tokens, $out =~ /($TOKEN_RE)/g;
    return $out;
}

###########################################################################
# audit

my $out = step('--json', 'create', '--name', 'audited', '--scope',
               'contacts.readonly', '--account', 'acct1', '--created-by',
               'dave');
my ($id) = $out =~ /"id"\s*:\s*"([^"]+)"/;
$id //= '';
my ($other) = PitTest::Pitctl::create($r, name => 'bystander',
                                      account => 'acct2');
step('edit', $id, '--description', 'now with text');
step('rotate', $id, '--later');
step('cancel-rotation', $id);
step('rotate', $id, '--later', '--overlap', '36h');
step('expire-now', $id);
step('rotate', $id, '--now');
step('delete', $id);
my @want = qw(delete rotate-now expire-now rotate-later cancel-rotation
              rotate-later edit create);

my ($rc, $au, $raw, $err) = pj('audit', $id);
is $rc, 0, 'audit ID --json: exit 0' or diag $err;
is ref $au, 'ARRAY', 'audit --json: an array' or diag $raw;
$au = [] unless ref $au eq 'ARRAY';
is_deeply [ map { $_->{action} } @$au ], \@want,
    'audit ID: every action, newest first';
ok !(grep { ($_->{iid} // '') ne $id } @$au), 'audit ID: only that id';
for my $e (@$au) {
    like $e->{at} // '', qr/^\d{13}$/, "audit $e->{action}: at in ms";
    like $e->{id} // '', qr/^\d+-\d+$/, "audit $e->{action}: stream id";
    ok length($e->{who} // ''), "audit $e->{action}: who";
    ok exists $e->{detail}, "audit $e->{action}: detail";
}
my @at = map { $_->{at} // 0 } @$au;
ok !(grep { $at[$_] < $at[$_ + 1] } 0 .. $#at - 1), 'at never increases';

($rc, $au) = pj('audit');
my @all = map { $_->{action} } @{ $au || [] };
is scalar @all, 9, 'audit: all integrations (9 entries)';
is_deeply [ map { $_->{action} }
            grep { ($_->{iid} // '') eq $other } @{ $au || [] } ],
    ['create'], 'audit: the other integration\'s create';
is $au && $au->[-1]{iid}, $id, 'audit: the oldest entry is the first create';

($rc, $au) = pj('audit', '--limit', '3');
is_deeply [ map { $_->{action} } @{ $au || [] } ],
    [ qw(delete rotate-now expire-now) ], 'audit --limit 3: three newest';
($rc, $au) = pj('audit', $id, '--limit', '1');
is_deeply [ map { $_->{action} } @{ $au || [] } ], ['delete'],
    'audit ID --limit 1';

($rc, $out, $err) = pc('audit', $id);
is $rc, 0, 'audit (human): exit 0' or diag $err;
my @pos = map { my $p = index($out, $_); $p } qw(delete expire-now create);
ok $pos[0] >= 0 && $pos[0] < $pos[1] && $pos[1] < $pos[2],
    'audit (human): newest first' or diag $out;
like $out, qr/\Q$id\E/, 'audit (human): names the integration';
($rc, $out) = pc('audit', '--limit', '2');
is scalar(grep { /\S/ && /rotate-now|delete|expire-now|create|edit/ }
          split /\n/, $out), 2, 'audit --limit 2 (human): two entries';
($rc, $out) = pc('audit', 'AAAAAAAAAAAAAAAAAAAA');
ok $rc == 0 || $rc == 2, 'audit of an id without entries: 0 or 2';
unlike $out, qr/create/, '... lists nothing';
fails 1, 'audit --limit -1', 'audit', '--limit', '-1';

is scalar(@tokens), 4, 'four tokens were shown (create and 3 rotations)';
my $stream = $r->raw('XRANGE', 'pit:audit', '-', '+');
like $stream, qr/rotate-later/, 'the stream is pit:audit';
ok !(grep { index($stream, $_) >= 0 } @tokens), 'no token in pit:audit';
my $dump = $r->dump_all;
ok !(grep { index($dump, $_) >= 0 } @tokens), 'no token anywhere in Redis';
unlike $dump, $TOKEN_RE, 'nothing token-shaped anywhere in Redis';

###########################################################################
# scopes

($rc, $out, $err) = pc('scopes');
is $rc, 0, 'scopes: exit 0' or diag $err;
my ($l1) = grep { /contacts\.readonly/ } split /\n/, $out;
like $l1 // '', qr/View Contacts/, 'contacts.readonly is View Contacts';
my ($l2) = grep { m{calendars/events\.write} } split /\n/, $out;
like $l2 // '', qr/Edit Calendar Events/,
    'calendars/events.write is Edit Calendar Events';

my $s;
($rc, $s) = pj('scopes');
is $rc, 0, 'scopes --json: exit 0';
$s = [] unless ref $s eq 'ARRAY';
my %cat = map { $_->{name} => $_ } @$s;
is $cat{'contacts.readonly'}{label}, 'View Contacts', 'json: View Contacts';
is $cat{'calendars/events.write'}{label}, 'Edit Calendar Events',
    'json: Edit Calendar Events';
ok length($cat{'contacts.readonly'}{access} // ''), 'json: access';
is scalar(keys %cat), scalar(@$s), 'json: names unique';
ok !(grep { $_->{name} !~ m{^[a-z0-9][a-zA-Z0-9._/-]{0,63}$} } @$s),
    'json: every name is a valid scope name';
ok scalar(@$s) >= 20, 'json: a real catalogue (' . scalar(@$s) . ')';

done_testing;

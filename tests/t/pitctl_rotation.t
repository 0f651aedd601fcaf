#!/usr/bin/perl
# The seed's rotation story end to end at the Redis level: rotate later,
# cancel, expire now, overlap, rotate now, a deadline passing, delete, and
# check for every kind of token.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);
use PitTest;

plan skip_all => 'build/pitctl not built (make build/pitctl)'
    unless -x PitTest::Pitctl::bin();

my $r = PitTest::Redis->new;
my $DAY = 86400 * 1000;
my $TOKEN_RE = qr/^pit-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my @tokens;

sub pc { PitTest::Pitctl::run($r, @_) }
sub pj { PitTest::Pitctl::json($r, @_) }
sub key { PitTest::Pitctl::token_key($_[0]) }
sub rec { $r->get_json(key($_[0])) || {} }
sub exists_tok { $r->raw('EXISTS', key($_[0])) }
sub now_ms { int(time * 1000) }

sub fails {
    my ($want, $what, @args) = @_;
    my ($rc, $out, $err) = pc(@args);
    ok($rc == $want && $err =~ /^pitctl: \S/ && $out eq '',
       "$what: exit $want, message on stderr")
        or diag "rc=$rc\nstdout=$out\nstderr=$err";
}

# Token keys (hashes) that name iid.
sub tok_keys_of {
    my ($iid) = @_;
    return grep { (($r->get_json($_) || {})->{iid} // '') eq $iid }
           $r->keys_matching('pit:tok:*');
}

# rotate ... in human form; returns (rc, token from the last line, stdout)
sub rotate_h {
    my ($rc, $out, $err) = pc('rotate', @_);
    my $t = (split /\n/, $out)[-1] // '';
    push @tokens, $t if $t =~ $TOKEN_RE;
    diag $err if $rc;
    return ($rc, $t, $out);
}

my ($id, $t1) = PitTest::Pitctl::create($r, name => 'My Make App1',
    scopes => ['contacts.readonly', 'calendars/events.write']);
push @tokens, $t1;

###########################################################################
# rotate --later: both tokens work, the old one expires at the deadline

my $t_start = now_ms();
my ($rc, $t2, $out) = rotate_h($id, '--later');
is $rc, 0, 'rotate --later: exit 0';
like $t2, $TOKEN_RE, 'rotate --later: the new token alone on the last line';
like $out, qr/copy/i, 'rotate --later: says to copy it';
is scalar(() = $out =~ /\Q$t2\E/g), 1, 'rotate --later: token shown once';
isnt $t2, $t1, 'rotate --later: a different token';
is exists_tok($t1), 1, 'old token key still there';
is exists_tok($t2), 1, 'new token key there';
is rec($t1)->{role}, 'previous', 'old key: role previous';
is rec($t2)->{role}, 'next', 'new key: role next';
my $pttl = $r->raw('PTTL', key($t1));
ok $pttl > 7 * $DAY - 60000 && $pttl <= 7 * $DAY,
    'old key: PTTL about 7 days' or diag "PTTL $pttl";
is $r->raw('PEXPIRETIME', key($t1)), rec($t1)->{until},
    'old key expires exactly at its until';
is $r->raw('PTTL', key($t2)), -1, 'new key: no TTL (it becomes primary)';
is rec($t2)->{until}, rec($t1)->{until}, 'both keys share the deadline';
is_deeply [ sort @{ rec($t2)->{scopes} } ],
    [ 'calendars/events.write', 'contacts.readonly' ], 'new key: scopes';
is rec($t2)->{iid}, $id, 'new key: iid';
my $sh;
($rc, $sh) = pj('show', $id);
is $sh->{state}, 'rotating', 'show --json: rotating';
ok abs($sh->{rotation}{started_at} - $t_start) < 10000, 'rotation started_at';
is $sh->{rotation}{deadline}, rec($t1)->{until}, 'rotation deadline';
($rc, $out) = pc('show', $id);
like $out, qr/rotating/i, 'show: says rotating';
like $out, qr/expires in 6 days 23 hours/, 'show: old token countdown';
is scalar(tok_keys_of($id)), 2, 'two token keys';

my $snap = $r->dump_all;
fails 3, 'second rotate --later', 'rotate', $id, '--later';
is $r->dump_all, $snap, '... changes nothing';
is scalar(tok_keys_of($id)), 2, 'still two token keys';

###########################################################################
# cancel-rotation: next gone, old token primary again, without TTL

($rc, $out, my $err) = pc('cancel-rotation', $id);
is $rc, 0, 'cancel-rotation: exit 0' or diag $err;
is exists_tok($t2), 0, 'next key gone';
is rec($t1)->{role}, 'primary', 'old key primary again';
ok !rec($t1)->{until}, 'old key until 0';
is $r->raw('PTTL', key($t1)), -1, 'old key: TTL removed';
($rc, $sh) = pj('show', $id);
is $sh->{state}, 'active', 'state active';
ok !defined $sh->{rotation}, 'rotation null';
is scalar @{ $sh->{tokens} || [] }, 1, 'one token';
is $sh->{tokens}[0]{role}, 'primary', '... primary';
ok !defined $sh->{tokens}[0]{until}, '... until null';
fails 3, 'cancel-rotation again', 'cancel-rotation', $id;
fails 3, 'expire-now without a rotation', 'expire-now', $id;
is exists_tok($t1), 1, 'the token survives the refused expire-now';

###########################################################################
# rotate --later, then expire-now: old key gone, new key primary

my $t3;
($rc, $t3) = rotate_h($id, '--later');
is $rc, 0, 'rotate --later again';
($rc, $out, $err) = pc('expire-now', $id);
is $rc, 0, 'expire-now: exit 0' or diag $err;
is exists_tok($t1), 0, 'old key gone';
is rec($t3)->{role}, 'primary', 'new key primary';
ok !rec($t3)->{until}, 'new key until 0';
is $r->raw('PTTL', key($t3)), -1, 'new key without TTL';
($rc, $sh) = pj('show', $id);
is $sh->{state}, 'active', 'state active after expire-now';
is scalar(tok_keys_of($id)), 1, 'one token key';
fails 3, 'expire-now again', 'expire-now', $id;
fails 3, 'cancel-rotation after expire-now', 'cancel-rotation', $id;

###########################################################################
# --overlap

my $t4;
($rc, $t4) = rotate_h($id, '--later', '--overlap', '36h');
is $rc, 0, 'rotate --later --overlap 36h';
$pttl = $r->raw('PTTL', key($t3));
ok $pttl > 36 * 3600000 - 60000 && $pttl <= 36 * 3600000,
    'PTTL about 36 hours' or diag "PTTL $pttl";
($rc, $out) = pc('show', $id);
like $out, qr/expires in 1 days? 11 hours/, 'show: 36h countdown';
pc('cancel-rotation', $id);
is exists_tok($t4), 0, 'cancelled';

###########################################################################
# rotate --now: a new primary, every old key gone, even mid-rotation

my $t5;
($rc, $t5) = rotate_h($id, '--later');
is $rc, 0, 'rotate --later before the leak';
my $t6;
($rc, $t6, $out) = rotate_h($id, '--now');
is $rc, 0, 'rotate --now during a rotation: exit 0';
like $t6, $TOKEN_RE, 'rotate --now: new token on the last line';
like $out, qr/copy/i, 'rotate --now: says to copy it';
is exists_tok($t3), 0, 'rotate --now: previous key gone';
is exists_tok($t5), 0, 'rotate --now: next key gone';
is rec($t6)->{role}, 'primary', 'rotate --now: new key primary';
is $r->raw('PTTL', key($t6)), -1, 'rotate --now: no TTL';
is_deeply [ tok_keys_of($id) ], [ key($t6) ], 'rotate --now: one key only';
($rc, $sh) = pj('show', $id);
is $sh->{state}, 'active', 'rotate --now: active';
my $t7;
($rc, $t7) = rotate_h($id, '--now');
is $rc, 0, 'rotate --now when active';
is exists_tok($t6), 0, 'rotate --now: the old primary gone';
is_deeply [ tok_keys_of($id) ], [ key($t7) ], 'one key';
my $cp;
($rc, $cp) = pj('check', $t7);
is $rc, 0, 'check of a primary token: exit 0';
is $cp && $cp->{role}, 'primary', 'check: role primary';
is $cp && $cp->{stored_role}, 'primary', 'check: stored_role primary';
ok $cp && exists $cp->{until} && !defined $cp->{until}, 'check: until null';
ok $cp && JSON::PP::is_bool($cp->{valid}) && $cp->{valid}, 'check: valid true';

my $data;
($rc, $data) = pj('rotate', $id, '--now');
is $rc, 0, 'rotate --now --json';
like $data && $data->{token}, $TOKEN_RE, 'rotate --json: token';
is $data && $data->{id}, $id, 'rotate --json: id';
push @tokens, $data->{token} if $data;
my $t8 = $data ? $data->{token} : '';
($rc, $data) = pj('rotate', $id, '--later', '--overlap', '7d');
is $rc, 0, 'rotate --later --json';
is $data && $data->{state}, 'rotating', 'rotate --later --json: rotating';
my $t9 = $data ? $data->{token} : '';
push @tokens, $t9;
is rec($t9)->{role}, 'next', 'rotate --later --json: the token is next';

fails 1, 'rotate without --later or --now', 'rotate', $id;
fails 1, 'rotate --later --now', 'rotate', $id, '--later', '--now';
fails 1, 'bad --overlap', 'rotate', $id, '--later', '--overlap', '7x';
fails 2, 'rotate of a missing id', 'rotate', 'AAAAAAAAAAAAAAAAAAAA',
    '--later';
fails 2, 'rotate --now of a missing id', 'rotate', 'AAAAAAAAAAAAAAAAAAAA',
    '--now';
fails 2, 'cancel-rotation of a missing id', 'cancel-rotation',
    'AAAAAAAAAAAAAAAAAAAA';
fails 2, 'expire-now of a missing id', 'expire-now', 'AAAAAAAAAAAAAAAAAAAA';
fails 1, 'cancel-rotation without an id', 'cancel-rotation';

###########################################################################
# check

sub check_j {
    my ($tok) = @_;
    return pj('check', $tok);
}
my $c;
($rc, $c) = check_j($t8);
is $rc, 0, 'check previous token: exit 0';
is $c->{id}, $id, 'check: id';
is $c->{account}, 'acct1', 'check: account';
is $c->{role}, 'previous', 'check: role previous';
is $c->{stored_role}, 'previous', 'check: stored_role previous';
ok $c->{valid}, 'check: valid';
is $c->{until}, rec($t8)->{until}, 'check: until the deadline';
is_deeply [ sort @{ $c->{scopes} || [] } ],
    [ 'calendars/events.write', 'contacts.readonly' ], 'check: scopes';
($rc, $c) = check_j($t9);
is $rc, 0, 'check next token';
is $c->{role}, 'next', 'check: role next';
ok $c->{valid}, 'check: next is valid';
($rc, $out, $err) = pc('check', '-', { stdin => "$t9\n" });
is $rc, 0, 'check - reads stdin' or diag $err;
like $out, qr/\Q$id\E/, 'check -: names the integration';
like $out, qr/next/, 'check -: the role';
like $out, qr/contacts\.readonly/, 'check -: the scopes';
($rc, $data) = pj('check', '-', { stdin => $t9 });
is $data && $data->{id}, $id, 'check --json - without a newline';
($rc, $out) = pc('check', $t8);
like $out, qr/previous/, 'check: human output names the role';
like $out, qr/6 days 23 hours|expires/, 'check: human output, the expiry';

fails 2, 'check of an unknown token', 'check',
    'pit-00000000-0000-4000-8000-000000000000';
fails 2, 'check of a dead token', 'check', $t1;
fails 2, 'check - of an unknown token', 'check', '-',
    { stdin => "pit-00000000-0000-4000-8000-000000000000\n" };
fails 1, 'check of a malformed token', 'check', 'pit-xyz';
fails 1, 'check of an uppercase token', 'check', uc $t9;
fails 1, 'check - of garbage', 'check', '-', { stdin => "hello\n" };
fails 1, 'check without a token', 'check';

###########################################################################
# a deadline passing with no job: next is primary, previous gone

my ($id2, $u1) = PitTest::Pitctl::create($r, name => 'short overlap');
push @tokens, $u1;
my $u2;
($rc, $u2) = rotate_h($id2, '--later', '--overlap', '1s');
is $rc, 0, 'rotate --later --overlap 1s';
($rc, $c) = check_j($u1);
is $c && $c->{role}, 'previous', 'old token previous before the deadline';
sleep 1.3;
is exists_tok($u1), 0, 'Redis removed the old key at the deadline';
($rc, $c) = check_j($u2);
is $rc, 0, 'check new token after the deadline';
is $c->{role}, 'primary', 'check: effective role primary';
is $c->{stored_role}, 'next', 'check: stored role still next';
ok $c->{valid}, 'check: valid';
fails 2, 'check old token after the deadline', 'check', $u1;
($rc, $sh) = pj('show', $id2);
is $sh->{state}, 'active', 'show: active after the deadline';
is_deeply [ map { $_->{role} } @{ $sh->{tokens} || [] } ], ['primary'],
    'show: one primary token';
fails 3, 'cancel-rotation after the deadline', 'cancel-rotation', $id2;
my $u3;
($rc, $u3) = rotate_h($id2, '--later');
is $rc, 0, 'rotate --later after the deadline passed';
is rec($u2)->{role}, 'previous', 'the promoted token becomes previous';

###########################################################################
# delete

$r->raw('HSET', "pit:used:$id", PitTest::Pitctl::token_hash($t9),
        now_ms());
($rc, $data) = pj('delete', $id);
is $rc, 0, 'delete --json: exit 0';
is_deeply $data, { id => $id, deleted => JSON::PP::true },
    'delete --json: {"id":..,"deleted":true}';
is scalar(tok_keys_of($id)), 0, 'delete: no token key left';
is exists_tok($t8), 0, 'delete: previous key gone';
is exists_tok($t9), 0, 'delete: next key gone';
is $r->raw('EXISTS', "pit:int:$id"), 0, 'delete: integration key gone';
is $r->raw('EXISTS', 'pit:name:acct1:my make app1'), 0,
    'delete: name key gone';
is $r->raw('ZSCORE', 'pit:ints:acct1', $id), '', 'delete: not in the index';
is $r->raw('EXISTS', "pit:used:$id"), 0, 'delete: last-use hash gone';
my $rest = join "\n", grep { !/^pit:audit$/ } $r->keys_matching('*');
unlike $rest, qr/\Q$id\E/, 'delete: no key names the id';
is $r->raw('EXISTS', "pit:int:$id2"), 1, 'delete: others untouched';
fails 2, 'delete again', 'delete', $id;
fails 2, 'show after delete', 'show', $id;
fails 2, 'check a token of a deleted integration', 'check', $t9;
($rc, $out, $err) = pc('delete', $id2);
is $rc, 0, 'delete during a rotation (human)' or diag $err;
is scalar(tok_keys_of($id2)), 0, 'no token key left';
my ($id3) = PitTest::Pitctl::create($r, name => 'My Make App1');
ok $id3, 'the name is free again after delete';

my $dump = $r->dump_all;
ok !(grep { length && index($dump, $_) >= 0 } @tokens),
    'no token anywhere in Redis';
is_deeply [ PitTest::Pitctl::integrity($r) ], [], 'schema integrity';

done_testing;

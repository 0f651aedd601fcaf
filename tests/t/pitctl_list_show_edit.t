#!/usr/bin/perl
# pitctl list, show and edit: the table, the masked tokens and countdowns,
# last use written by the edge, edits that keep the tokens.

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
my $HINT_RE = qr/pit-[0-9a-f]{4}\*{4}-\*{4}-\*{4}-\*{4}[0-9a-f]{4}/;

sub pc { PitTest::Pitctl::run($r, @_) }
sub pj { PitTest::Pitctl::json($r, @_) }

sub fails {
    my ($want, $what, @args) = @_;
    my ($rc, $out, $err) = pc(@args);
    ok($rc == $want && $err =~ /^pitctl: \S/ && $out eq '',
       "$what: exit $want, message on stderr")
        or diag "rc=$rc\nstdout=$out\nstderr=$err";
}

sub create {
    my (%o) = @_;
    return PitTest::Pitctl::create($r, %o);
}

sub hint_of { 'pit-' . substr($_[0], 4, 4) . '****-****-****-****'
              . substr($_[0], -4) }

sub line_with {
    my ($text, $needle) = @_;
    return grep { index($_, $needle) >= 0 } split /\n/, $text;
}

my ($a_id, $a_tok) = create(name => 'alpha-app', account => 'acct1',
    extra => ['--description', 'first one', '--created-by', 'carol']);
my ($b_id, $b_tok) = create(name => 'beta-app', account => 'acct1');
my ($g_id, $g_tok) = create(name => 'gamma-app', account => 'acct2');
my @tokens = ($a_tok, $b_tok, $g_tok);

###########################################################################
# list

my ($rc, $out, $err) = pc('list');
is $rc, 0, 'list: exit 0' or diag $err;
my ($head) = grep { /Name/ } split /\n/, $out;
$head //= '';
for my $col ('Name', 'Description', 'Created On', 'Updated At', 'Last Used',
             'Created By') {
    like $head, qr/\Q$col\E/, "list: column $col";
}
for my $n ('alpha-app', 'beta-app', 'gamma-app') {
    is scalar(line_with($out, $n)), 1, "list: one row for $n";
}
my ($arow) = line_with($out, 'alpha-app');
like $arow // '', qr/first one/, 'list: row shows the description';
like $arow // '', qr/carol/, 'list: row shows who created it';
unlike $out, qr/\Q$a_tok\E|\Q$b_tok\E|\Q$g_tok\E/, 'list: no token';

($rc, $out, $err) = pc('list', '--account', 'acct1');
is $rc, 0, 'list --account: exit 0';
ok line_with($out, 'alpha-app') && line_with($out, 'beta-app')
   && !line_with($out, 'gamma-app'), 'list --account: that account only'
    or diag $out;

($rc, $out, $err) = pc('list', '--account', 'nobody');
ok $rc == 0 || $rc == 2, 'list of an account without integrations';
ok !line_with($out, '-app'), '... lists nothing';

my $list;
($rc, $list, $out, $err) = pj('list');
is $rc, 0, 'list --json: exit 0';
is ref $list, 'ARRAY', 'list --json: an array' or diag $out;
$list = [] unless ref $list eq 'ARRAY';
is scalar @$list, 3, 'list --json: three integrations';
is_deeply [ sort map { $_->{id} } @$list ], [ sort $a_id, $b_id, $g_id ],
    'list --json: their ids';
($rc, $list) = pj('list', '--account', 'acct2');
is_deeply [ map { $_->{id} } @{ $list || [] } ], [ $g_id ],
    'list --json --account';

###########################################################################
# rotation column, rotation due, last used

($rc, $out, $err) = pc('rotate', $a_id, '--later');
is $rc, 0, 'rotate alpha later' or diag $err;
my $a_next = (split /\n/, $out)[-1] // '';
push @tokens, $a_next;

# beta's primary token is made 91 days old by hand, as if created then.
my $old = int(time * 1000) - 91 * $DAY;
my $bint = $r->get_json("pit:int:$b_id");
$bint->{created_at} = $old;
$_->{created_at} = $old for @{ $bint->{tokens} || [] };
$r->raw('SET', "pit:int:$b_id", JSON::PP->new->utf8->canonical->encode($bint));

# the edge saw gamma's token in use
my $used_ms = int(time * 1000) - 3600 * 1000;
$r->raw('HSET', "pit:used:$g_id", PitTest::Pitctl::token_hash($g_tok),
        $used_ms);

($rc, $out, $err) = pc('list');
is $rc, 0, 'list during a rotation: exit 0' or diag $err;
($arow) = line_with($out, 'alpha-app');
like $arow // '', qr/rotating: old token expires in 6 days 23 hours/,
    'list: rotating alpha and its countdown';
my ($brow) = line_with($out, 'beta-app');
like $brow // '', qr/rotation due/, 'list: beta (91 days old) rotation due';
unlike $arow // '', qr/rotation due/, 'list: alpha not due';
my ($grow) = line_with($out, 'gamma-app');
unlike $grow // '', qr/rotation due|rotating/, 'list: gamma neither';

($rc, $list) = pj('list');
my %by = map { $_->{id} => $_ } @{ $list || [] };
ok $by{$b_id} && $by{$b_id}{rotation_due}, 'list --json: beta rotation_due';
ok $by{$g_id} && !$by{$g_id}{rotation_due}, 'list --json: gamma not due';
is $by{$a_id} && $by{$a_id}{state}, 'rotating', 'list --json: alpha rotating';
is $by{$g_id} && $by{$g_id}{last_used}, $used_ms,
    'list --json: last_used from pit:used';
ok $by{$b_id} && !defined $by{$b_id}{last_used}, 'list --json: never used';

###########################################################################
# show

($rc, $out, $err) = pc('show', $g_id);
is $rc, 0, 'show: exit 0' or diag $err;
like $out, qr/gamma-app/, 'show: the name';
like $out, qr/\Q${\ hint_of($g_tok)}\E/, 'show: the masked token';
like $out, qr/primary/, 'show: the role';
unlike $out, qr/\Q$g_tok\E/, 'show: never the token';

($rc, $out, $err) = pc('show', $a_id);
is $rc, 0, 'show during a rotation: exit 0';
like $out, qr/rotating/, 'show: says rotating';
like $out, qr/\Q${\ hint_of($a_tok)}\E/, 'show: the old masked token';
like $out, qr/\Q${\ hint_of($a_next)}\E/, 'show: the new masked token';
like $out, qr/previous/, 'show: role previous';
like $out, qr/next/, 'show: role next';
like $out, qr/expires in 6 days 23 hours/, 'show: expiry countdown';
my $n = () = $out =~ /6 days 23 hours/g;
ok $n >= 2, 'show: countdowns for both tokens (expiry and promotion)'
    or diag $out;
unlike $out, qr/\Q$a_tok\E|\Q$a_next\E/, 'show: no token';

my $sh;
($rc, $sh, $out) = pj('show', $a_id);
is $rc, 0, 'show --json: exit 0';
$sh ||= {};
is $sh->{state}, 'rotating', 'show --json: state rotating';
ok ref $sh->{rotation} eq 'HASH', 'show --json: rotation object';
is(($sh->{rotation}{deadline} // 0) - ($sh->{rotation}{started_at} // 0),
   7 * $DAY, 'show --json: deadline 7 days after the start');
is_deeply [ sort map { $_->{role} } @{ $sh->{tokens} || [] } ],
    [ 'next', 'previous' ], 'show --json: tokens next and previous';
is_deeply [ sort map { $_->{hint} } @{ $sh->{tokens} || [] } ],
    [ sort(hint_of($a_tok), hint_of($a_next)) ], 'show --json: hints';
for my $t (@{ $sh->{tokens} || [] }) {
    is $t->{until}, $sh->{rotation}{deadline}, "show --json: $t->{role} until";
}

($rc, $sh) = pj('show', $g_id);
is $sh && $sh->{tokens}[0]{last_used}, $used_ms,
    'show --json: last use per token';
is $sh && $sh->{last_used}, $used_ms, 'show --json: last use';

fails 2, 'show of a missing id', 'show', 'AAAAAAAAAAAAAAAAAAAA';
fails 2, 'show --json of a missing id', '--json', 'show',
    'AAAAAAAAAAAAAAAAAAAA';
fails 1, 'show without an id', 'show';

###########################################################################
# edit

my $before;
($rc, $before) = pj('show', $a_id);
sleep 0.01;
($rc, $out, $err) = pc('edit', $a_id, '--name', 'Alpha Renamed',
    '--description', 'second text');
is $rc, 0, 'edit name and description: exit 0' or diag $err;
($rc, $sh) = pj('show', $a_id);
is $sh->{name}, 'Alpha Renamed', 'edit: new name';
is $sh->{description}, 'second text', 'edit: new description';
is_deeply $sh->{scopes}, $before->{scopes}, 'edit: scopes unchanged';
is $sh->{created_at}, $before->{created_at}, 'edit: created_at unchanged';
ok $sh->{updated_at} > $before->{updated_at}, 'edit: updated_at moves';
is_deeply $sh->{tokens}, $before->{tokens}, 'edit: tokens unchanged';
is $r->raw('GET', 'pit:name:acct1:alpha renamed'), $a_id, 'edit: new name key';
is $r->raw('EXISTS', 'pit:name:acct1:alpha-app'), 0, 'edit: old name key gone';

my $prev_key = PitTest::Pitctl::token_key($a_tok);
my $next_key = PitTest::Pitctl::token_key($a_next);
my $exp_before = $r->raw('PEXPIRETIME', $prev_key);
ok $exp_before > time * 1000, 'the previous key expires in the future';
($rc, $out, $err) = pc('edit', $a_id, '--scope', 'contacts.write',
    '--scope', 'contacts.readonly', '--scope', 'calendars/events.write');
is $rc, 0, 'edit scopes during a rotation: exit 0' or diag $err;
my @want = ('calendars/events.write', 'contacts.readonly', 'contacts.write');
($rc, $sh) = pj('show', $a_id);
is_deeply [ sort @{ $sh->{scopes} || [] } ], \@want, 'edit: the new set';
for my $k ($prev_key, $next_key) {
    my $rec = $r->get_json($k);
    is_deeply [ sort @{ ($rec && $rec->{scopes}) || [] } ], \@want,
        'edit: token key has the new scopes';
}
is +($r->get_json($prev_key) || {})->{role}, 'previous', 'edit: previous stays';
is $r->raw('PEXPIRETIME', $prev_key), $exp_before,
    'edit: previous key keeps its expiry';
is $r->raw('PTTL', $next_key), -1, 'edit: next key still without TTL';
is $sh->{state}, 'rotating', 'edit: rotation untouched';

($rc, $out, $err) = pc('edit', $a_id, '--scope', 'contacts.readonly');
is $rc, 0, 'edit: scopes can shrink';
is_deeply +($r->get_json($next_key) || {})->{scopes}, ['contacts.readonly'],
    'edit: token key shrunk';

($rc, $out, $err) = pc('edit', $a_id, '--name', 'ALPHA renamed');
is $rc, 0, 'edit: own name in another case is not a conflict' or diag $err;
is $r->raw('GET', 'pit:name:acct1:alpha renamed'), $a_id,
    'edit: name key still ours';

my $snap = $r->raw('GET', "pit:int:$a_id");
fails 3, 'rename to a taken name (other case)', 'edit', $a_id, '--name',
    'BETA-APP';
fails 2, 'edit of a missing id', 'edit', 'AAAAAAAAAAAAAAAAAAAA', '--name',
    'x';
fails 1, 'edit: 201-character name', 'edit', $a_id, '--name', 'x' x 201;
fails 1, 'edit: empty name', 'edit', $a_id, '--name', '';
fails 1, 'edit: 501-character description', 'edit', $a_id,
    '--description', 'd' x 501;
fails 1, 'edit: unknown scope', 'edit', $a_id, '--scope', 'acme.things';
fails 1, 'edit: 101 scopes', 'edit', $a_id, '--allow-unknown-scope',
    map { ('--scope', sprintf 'x%03d.readonly', $_) } 1 .. 101;
fails 1, 'edit: invalid UTF-8', 'edit', $a_id, '--description', "\xff";
fails 1, 'edit without an id', 'edit';
is $r->raw('GET', "pit:int:$a_id"), $snap,
    'refused edits leave the integration unchanged';

($rc, $out, $err) = pc('edit', $g_id, '--name', 'beta-app');
is $rc, 0, 'edit: a name taken only in another account is free' or diag $err;
($rc, $out, $err) = pc('edit', $g_id, '--scope', 'acme.things',
    '--allow-unknown-scope');
is $rc, 0, 'edit: --allow-unknown-scope' or diag $err;
is_deeply +($r->get_json(PitTest::Pitctl::token_key($g_tok)) || {})->{scopes},
    ['acme.things'], 'edit: unknown scope reaches the token key';

my $dump = $r->dump_all;
ok !(grep { index($dump, $_) >= 0 } @tokens), 'no token anywhere in Redis';
is_deeply [ PitTest::Pitctl::integrity($r) ], [], 'schema integrity';

done_testing;

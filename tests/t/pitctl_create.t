#!/usr/bin/perl
# pitctl create: the token shown once, the keys written, and every way the
# input can be refused (exit 1 invalid, 3 name taken) without writing.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP;
use Encode qw(encode_utf8);
use PitTest;

plan skip_all => 'build/pitctl not built (make build/pitctl)'
    unless -x PitTest::Pitctl::bin();

my $r = PitTest::Redis->new;
my $TOKEN_RE = qr/^pit-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
my $HINT_RE  = qr/^pit-([0-9a-f]{4})\*{4}-\*{4}-\*{4}-\*{4}([0-9a-f]{4})$/;
my @tokens;                      # every token seen, for the leak check

sub pc { PitTest::Pitctl::run($r, @_) }
sub pj { PitTest::Pitctl::json($r, @_) }

# One assertion: exit code, "pitctl: ..." on stderr, nothing on stdout.
sub fails {
    my ($want, $what, @args) = @_;
    my ($rc, $out, $err) = pc(@args);
    ok($rc == $want && $err =~ /^pitctl: \S/ && $out eq '',
       "$what: exit $want, message on stderr")
        or diag "rc=$rc\nstdout=$out\nstderr=$err";
}

sub nkeys { scalar $r->keys_matching('*') }

###########################################################################
# human output

my ($rc, $out, $err) = pc('create', '--name', 'My Make App1',
    '--description', 'Syncs contacts', '--scope', 'contacts.readonly',
    '--scope', 'calendars/events.write', '--account', 've9EPM428h8vShlRW1KT',
    '--created-by', 'alice@example.com');
is $rc, 0, 'create: exit 0' or diag $err;
my @lines = split /\n/, $out;
my $tok = $lines[-1] // '';
like $tok, $TOKEN_RE, 'create: the token stands alone on the last line';
push @tokens, $tok;
like $out, qr/copy/i, 'create: says to copy the token';
my $count = () = $out =~ /\Q$tok\E/g;
is $count, 1, 'create: the token is printed once';
unlike $err, qr/\Q$tok\E/, 'create: no token on stderr';

my $tkey = PitTest::Pitctl::token_key($tok);
my $rec = $r->get_json($tkey);
ok $rec, 'token key pit:tok:<sha256 hex> holds JSON';
is $rec->{v}, 1, 'token record v 1';
is $rec->{acct}, 've9EPM428h8vShlRW1KT', 'token record acct';
is $rec->{role}, 'primary', 'token record role primary';
ok !$rec->{until}, 'token record until 0 for a primary';
is_deeply [ sort @{ $rec->{scopes} || [] } ],
    [ 'calendars/events.write', 'contacts.readonly' ], 'token record scopes';
like $rec->{acct_type} // '', qr/^(location|company)$/, 'token record acct_type';
is $r->raw('PTTL', $tkey), -1, 'primary token key has no TTL';
my $iid = $rec->{iid} // '';
like $iid, qr/^[A-Za-z0-9]{20}$/, 'integration id: 20 alphanumerics';
is $r->raw('GET', 'pit:name:ve9EPM428h8vShlRW1KT:my make app1'), $iid,
    'name key (lowercased) -> id';
ok length $r->raw('ZSCORE', 'pit:ints:ve9EPM428h8vShlRW1KT', $iid),
    'id in the account index';
# Accounts are found by SCAN of pit:ints:*, so a delete leaves nothing
# behind; there is no pit:accts set to keep in step.
is $r->raw('EXISTS', 'pit:accts'), 0, 'no pit:accts set (schema v1)';
my $int = $r->get_json("pit:int:$iid");
ok $int, 'integration key holds JSON';
is $int->{name}, 'My Make App1', 'integration record name';
is scalar @{ $int->{tokens} || [] }, 1, 'integration record: one token';
is $int->{tokens}[0]{hash}, PitTest::Pitctl::token_hash($tok),
    'integration record holds the token hash';

###########################################################################
# --json

my $data;
($rc, $data, $out, $err) = pj('create', '--name', 'Zapier', '--scope',
    'contacts.readonly', '--account', 'acct1', '--account-type', 'company',
    '--created-by', 'bob', '--description', 'd1');
is $rc, 0, 'create --json: exit 0' or diag $err;
ok ref $data eq 'HASH', 'create --json: one object' or diag $out;
$data ||= {};
push @tokens, $data->{token} // '';
like $data->{token} // '', $TOKEN_RE, 'create --json: token';
like $data->{id} // '', qr/^[A-Za-z0-9]{20}$/, 'create --json: id';
is $data->{name}, 'Zapier', 'create --json: name';
is $data->{description}, 'd1', 'create --json: description';
is $data->{account}, 'acct1', 'create --json: account';
is $data->{account_type}, 'company', 'create --json: account_type';
is_deeply $data->{scopes}, ['contacts.readonly'], 'create --json: scopes';
is $data->{created_by}, 'bob', 'create --json: created_by';
like $data->{created_at} // '', qr/^\d{13}$/, 'create --json: created_at ms';
like $data->{updated_at} // '', qr/^\d{13}$/, 'create --json: updated_at ms';
ok abs(($data->{created_at} // 0) - time * 1000) < 60000,
    'create --json: created_at is now';
is $data->{state}, 'active', 'create --json: state active';
ok exists $data->{rotation} && !defined $data->{rotation},
    'create --json: rotation null';
ok JSON::PP::is_bool($data->{rotation_due}) && !$data->{rotation_due},
    'create --json: rotation_due false';
ok exists $data->{last_used} && !defined $data->{last_used},
    'create --json: last_used null';
is scalar @{ $data->{tokens} || [] }, 1, 'create --json: one token';
my $t0 = $data->{tokens}[0] || {};
is $t0->{role}, 'primary', 'create --json: token role primary';
like $t0->{hint} // '', $HINT_RE, 'create --json: masked hint';
if (($t0->{hint} // '') =~ $HINT_RE) {
    is "$1$2", substr($data->{token}, 4, 4) . substr($data->{token}, -4),
        'hint: first and last four hex digits of the token';
}
ok exists $t0->{until} && !defined $t0->{until}, 'create --json: until null';
is +($r->get_json(PitTest::Pitctl::token_key($data->{token} // '')) || {})->{acct_type},
    'company', 'token record acct_type company';

###########################################################################
# valid edge cases

my $n200 = encode_utf8("\x{65e5}" x 200);            # 200 chars, 600 bytes
($rc, $data, $out, $err) = pj('create', '--name', $n200, '--scope',
    'contacts.readonly', '--account', 'acct1', '--description',
    encode_utf8("\x{e9}" x 500));
is $rc, 0, '200 multibyte characters name and 500 character description OK'
    or diag $err;
is $data && $data->{name}, "\x{65e5}" x 200, 'multibyte name kept';
push @tokens, $data->{token} if $data;

($rc, $data, $out, $err) = pj('create', '--name', 'x' x 200, '--scope',
    'contacts.readonly', '--account', 'acct1');
is $rc, 0, '200 ASCII characters name OK' or diag $err;

($rc, $data, $out, $err) = pj('create', '--name', 'custom', '--scope',
    'acme.widgets.readonly', '--account', 'acct1', '--allow-unknown-scope');
is $rc, 0, 'unknown scope accepted with --allow-unknown-scope' or diag $err;
is_deeply $data && $data->{scopes}, ['acme.widgets.readonly'],
    'unknown scope stored';

my @s100 = map { sprintf 'x%03d.readonly', $_ } 1 .. 100;
($rc, $data, $out, $err) = pj('create', '--name', 'hundred', '--account',
    'acct1', '--allow-unknown-scope', map { ('--scope', $_) } @s100);
is $rc, 0, '100 scopes OK' or diag $err;
is scalar @{ ($data && $data->{scopes}) || [] }, 100, '100 scopes stored';

###########################################################################
# invalid input: exit 1, nothing written

my $before = nkeys();
my @ok = ('--scope', 'contacts.readonly', '--account', 'acct1');
fails 1, 'missing --name', 'create', @ok;
fails 1, 'missing --account', 'create', '--name', 'n1', '--scope',
    'contacts.readonly';
fails 1, 'missing --scope', 'create', '--name', 'n1', '--account', 'acct1';
fails 1, 'empty name', 'create', '--name', '', @ok;
fails 1, '201-character name', 'create', '--name', 'x' x 201, @ok;
fails 1, '201 multibyte characters name', 'create', '--name',
    encode_utf8("\x{e9}" x 201), @ok;
fails 1, '501-character description', 'create', '--name', 'n1',
    '--description', 'd' x 501, @ok;
fails 1, 'invalid UTF-8 name', 'create', '--name', "bad\xff\xfename", @ok;
fails 1, 'overlong UTF-8 name', 'create', '--name', "a\xc0\xafb", @ok;
fails 1, 'invalid UTF-8 description', 'create', '--name', 'n1',
    '--description', "\xed\xa0\x80", @ok;
fails 1, 'control character in name', 'create', '--name', "a\x01b", @ok;
fails 1, 'unknown scope', 'create', '--name', 'n1', '--scope',
    'acme.widgets.readonly', '--account', 'acct1';
fails 1, 'unknown scope among known ones', 'create', '--name', 'n1',
    '--scope', 'contacts.readonly', '--scope', 'contacts.everything',
    '--account', 'acct1';
fails 1, 'malformed scope even with --allow-unknown-scope', 'create',
    '--name', 'n1', '--scope', 'Bad Scope!', '--account', 'acct1',
    '--allow-unknown-scope';
fails 1, '101 scopes', 'create', '--name', 'n1', '--account', 'acct1',
    '--allow-unknown-scope',
    map { ('--scope', sprintf 'x%03d.readonly', $_) } 1 .. 101;
fails 1, 'account id with a blank', 'create', '--name', 'n1', '--scope',
    'contacts.readonly', '--account', 'bad acct';
fails 1, 'account id with a colon', 'create', '--name', 'n1', '--scope',
    'contacts.readonly', '--account', 'a:b';
fails 1, 'empty account id', 'create', '--name', 'n1', '--scope',
    'contacts.readonly', '--account', '';
fails 1, '65-character account id', 'create', '--name', 'n1', '--scope',
    'contacts.readonly', '--account', 'a' x 65;
fails 1, 'bad --account-type', 'create', '--name', 'n1', @ok,
    '--account-type', 'person';
fails 1, 'unknown option', 'create', '--name', 'n1', @ok, '--colour', 'red';
fails 1, 'option without its value', 'create', @ok, '--name';
fails 1, 'no command', ();
fails 1, 'unknown command', 'frobnicate';
is nkeys(), $before, 'no key written by any refused create';

###########################################################################
# names: unique per account, case-insensitive

fails 3, 'same name, same account', 'create', '--name', 'My Make App1',
    '--scope', 'contacts.readonly', '--account', 've9EPM428h8vShlRW1KT';
fails 3, 'same name in another case', 'create', '--name', 'MY MAKE app1',
    '--scope', 'contacts.readonly', '--account', 've9EPM428h8vShlRW1KT';
is nkeys(), $before, 'no key written by a refused duplicate';
is $r->raw('ZCARD', 'pit:ints:ve9EPM428h8vShlRW1KT'), 1,
    'still one integration in the account';

($rc, $data, $out, $err) = pj('create', '--name', 'My Make App1', '--scope',
    'contacts.readonly', '--account', 'otherAcct');
is $rc, 0, 'same name in another account OK' or diag $err;
push @tokens, $data->{token} if $data;
isnt $data && $data->{id}, $iid, 'a different integration';

###########################################################################
# no token anywhere in Redis

my $dump = $r->dump_all;
ok !(grep { length && index($dump, $_) >= 0 } @tokens),
    'no token in any Redis key or value';
is_deeply [ PitTest::Pitctl::integrity($r) ], [], 'schema integrity';

done_testing;

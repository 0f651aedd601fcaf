#!/usr/bin/perl
# Audit with a who and a what: the operator from --as, $PIT_ADMIN,
# $SUDO_USER, else the login name; every row names the integration and its
# account (delete included); audit --account, --since, --json; no token.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use PitTest;

plan skip_all => 'build/pitctl not built (make build/pitctl)'
    unless -x PitTest::Pitctl::bin();

my $r = PitTest::Redis->new;
my $TOKEN_RE = qr/pit-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;
my $login = scalar getpwuid($>);
my %clean = (PIT_ADMIN => '', SUDO_USER => '');
my @tokens;

sub pc {
    my $env = ref $_[-1] eq 'HASH' ? pop : {};
    my ($rc, $out, $err) = PitTest::Pitctl::run($r, @_,
                                                { env => { %clean, %$env } });
    push @tokens, $out =~ /($TOKEN_RE)/g;
    return ($rc, $out, $err);
}
sub last_who { $r->raw('XREVRANGE', 'pit:audit', '+', '-', 'COUNT', 1) =~ /\nwho\n([^\n]*)/ ? $1 : '' }

my ($rc, $out, $err) = pc('--json', 'create', '--name', 'App One',
                          '--account', 'acct1', '--scope', 'contacts.readonly');
is $rc, 0, 'create' or diag $err;
my ($id) = $out =~ /"id"\s*:\s*"([^"]+)"/;
like $out, qr/"created_by"\s*:\s*"\Q$login\E"/, 'created_by defaults to the operator';
is last_who(), $login, 'no --as, no env: the login name';

pc('--as', 'alice', 'edit', $id, '--description', 'd');
is last_who(), 'alice', '--as';
pc('edit', $id, '--description', 'e', { PIT_ADMIN => 'bob' });
is last_who(), 'bob', 'PIT_ADMIN';
pc('rotate', $id, '--later', { SUDO_USER => 'carol' });
is last_who(), 'carol', 'SUDO_USER';
pc('cancel-rotation', $id, { PIT_ADMIN => 'bob', SUDO_USER => 'carol' });
is last_who(), 'bob', 'PIT_ADMIN before SUDO_USER';
pc('--as', 'alice', 'expire-now', $id, { PIT_ADMIN => 'bob' }) ;
pc('--as', 'alice', 'rotate', $id, '--now', { PIT_ADMIN => 'bob' });
is last_who(), 'alice', '--as before PIT_ADMIN';
($rc, undef, $err) = pc('--as', "bad\x01name", 'list');
is $rc, 1, 'a control character in --as: exit 1';

my ($other) = PitTest::Pitctl::create($r, name => 'Other', account => 'acct2');
pc('--as', 'dave', 'delete', $id);

my ($arc, $au) = PitTest::Pitctl::json($r, 'audit', $id);
is $arc, 0, 'audit ID --json';
is scalar(@$au), 7, 'seven entries of the integration (expire-now was refused)';
for my $e (@$au) {
    is $e->{name}, 'App One', "$e->{action}: the integration's name";
    is $e->{account}, 'acct1', "$e->{action}: its account";
}
is $au->[0]{action}, 'delete', 'delete is audited';
is $au->[0]{who}, 'dave', '... with who';
is $au->[0]{name}, 'App One', '... and the name of what was deleted';

($arc, $au) = PitTest::Pitctl::json($r, 'audit', '--account', 'acct2');
is_deeply [ map { "$_->{action}:$_->{iid}" } @$au ], [ "create:$other" ],
    'audit --account';

my $later = time * 1000 + 3 * 86400 * 1000;
($arc, $au) = PitTest::Pitctl::json($r, 'audit', '--since', '1d',
                                    { env => { PIT_NOW_MS => $later } });
is scalar(@$au), 0, 'audit --since 1d, three days later: nothing';
($arc, $au) = PitTest::Pitctl::json($r, 'audit', '--since', '4d',
                                    { env => { PIT_NOW_MS => $later } });
is scalar(@$au), 8, 'audit --since 4d: everything';
($arc, $au) = PitTest::Pitctl::json($r, 'audit', '--since', 'soon');
is $arc, 1, 'a bad --since: exit 1';

($rc, $out) = pc('audit');
like $out, qr/^When\s+Who\s+Action\s+Integration\s+Name\s+Account\s+Detail/,
    'human header';
like $out, qr/dave\s+delete\s+\Q$id\E\s+App One\s+acct1/, 'human row of the delete';

ok scalar(@tokens) >= 3, 'tokens were shown';
my $stream = $r->raw('XRANGE', 'pit:audit', '-', '+');
ok !(grep { index($stream, $_) >= 0 } @tokens), 'no token in the audit';
unlike $stream, $TOKEN_RE, 'nothing token-shaped in the audit';

done_testing;

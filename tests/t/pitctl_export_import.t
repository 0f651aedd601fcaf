#!/usr/bin/perl
# pitctl export / import round trip: several integrations (one mid-rotation
# with next + previous, one whose deadline is past at import time), export,
# FLUSHALL, import: check and show give the same as before for every
# token, the past deadline settled; no token in the backup; conflicts
# refused unless --replace; a backup of another hash key refused.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use JSON::PP;
use PitTest;

plan skip_all => 'build/pitctl not built (make build/pitctl)'
    unless -x PitTest::Pitctl::bin();

my $r = PitTest::Redis->new;
my $dir = tempdir(CLEANUP => 1);
sub write_file { open my $f, '>', $_[0] or die; print $f $_[1]; close $f; $_[0] }
my $key = write_file("$dir/key", "export-import-hash-key-42\n");
my $other = write_file("$dir/other", "another-hash-key-000000\n");
my $now = int(time * 1000);     # PIT_NOW_MS: Redis's PEXPIREAT runs on its clock
my $TOKEN_RE = qr/pit-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/;

sub pc {
    my $t = ref $_[-1] eq 'HASH' ? pop : {};
    return PitTest::Pitctl::run($r, '--hash-key', $key, @_,
                                { env => { PIT_NOW_MS => $t->{now} // $now } });
}
sub pj {
    my ($rc, $out, $err) = pc('--json', @_);
    return ($rc, eval { decode_json($out) }, $out, $err);
}
sub token_of { ($_[0] =~ /"token"\s*:\s*"([^"]+)"/)[0] }

my (%id, %tok);
for my $n (qw(plain rotating short other)) {
    my ($rc, $d, $out, $err) = pj('create', '--name', "app $n", '--account',
        $n eq 'other' ? 'acct2' : 'acct1', '--scope', 'contacts.readonly',
        '--scope', 'contacts.write', '--description', "the $n one");
    is $rc, 0, "create $n" or diag $err;
    $id{$n} = $d->{id};
    $tok{$n} = [ $d->{token} ];
}
my ($rc, $d) = pj('rotate', $id{rotating}, '--later');
push @{ $tok{rotating} }, $d->{token};
($rc, $d) = pj('rotate', $id{short}, '--later', '--overlap', '1h');
push @{ $tok{short} }, $d->{token};
($rc) = pc('scopes', 'add', 'orders.read', '--label', 'View Orders');
is $rc, 0, 'a stored catalogue';

my (%show, %check);
for my $n (keys %id) {
    ($rc, $show{$n}) = pj('show', $id{$n});
    for my $t (@{ $tok{$n} }) {
        my ($crc, $cd) = pj('check', $t);
        $check{$t} = [ $crc, $cd ];
    }
}
is $show{rotating}{state}, 'rotating', 'mid-rotation';
is scalar(@{ $show{rotating}{tokens} }), 2, '... next and previous';

# export
my ($xrc, $backup, $xerr) = pc('export');
is $xrc, 0, 'export: exit 0' or diag $xerr;
my $b = decode_json($backup);
is $b->{format}, 'pit-auth-backup', 'format';
is scalar(@{ $b->{integrations} }), 4, 'four integrations';
is $b->{meta}{hash}, 'hmac-sha256', 'the meta';
ok((grep { $_->{name} eq 'orders.read' } @{ $b->{catalogue} }), 'the stored catalogue');
my @all_tokens = map { @$_ } values %tok;
ok !(grep { index($backup, $_) >= 0 } @all_tokens), 'no token in the backup';
unlike $backup, $TOKEN_RE, 'nothing token-shaped in the backup';
my ($rec) = grep { $_->{record}{id} eq $id{rotating} } @{ $b->{integrations} };
is scalar(@{ $rec->{record}{tokens} }), 2, 'token hashes and hints kept';
like $rec->{record}{tokens}[0]{hash}, qr/^[0-9a-f]{64}$/, 'a hash';
my $file = write_file("$dir/backup.json", $backup);
my ($arc, $acct1) = pj('export', '--account', 'acct2');
is scalar(@{ $acct1->{integrations} }), 1, 'export --account';

# FLUSHALL, import
$r->cmd('FLUSHALL');
($rc, undef, my $err) = pc('import', $file, '--dry-run');
is $rc, 0, 'import --dry-run' or diag $err;
is scalar($r->keys_matching('pit:int:*')), 0, '... writes nothing';
($rc, undef, $err) = pc('import', $file);
is $rc, 0, 'import: exit 0' or diag $err;
is_deeply [ PitTest::Pitctl::integrity($r) ], [], 'integrity after import';
for my $n (keys %id) {
    my ($src, $s) = pj('show', $id{$n});
    is_deeply $s, $show{$n}, "show $n: the same as before";
    for my $t (@{ $tok{$n} }) {
        is_deeply [ (pj('check', $t))[0, 1] ], $check{$t}, "check $n token: the same";
    }
}
my $hash = Digest::SHA::hmac_sha256_hex($tok{rotating}[0], 'export-import-hash-key-42');
my $pttl = $r->raw("PTTL", "pit:tok:$hash");
ok $pttl > 0, 'the previous token key has an expiry again (PEXPIREAT)';
is $r->raw('HGET', 'pit:scopes', 'orders.read'), 'View Orders', 'catalogue restored';
is $r->get_json('pit:meta')->{key_fingerprint}, $b->{meta}{key_fingerprint},
    'meta restored';

# conflicts
($rc, undef, $err) = pc('import', $file);
is $rc, 3, 'import again: conflict, exit 3';
like $err, qr/integration \Q$id{plain}\E exists/, '... says which';
($rc) = pc('import', $file, '--dry-run');
is $rc, 3, '--dry-run reports the conflicts too';
($rc, undef, $err) = pc('import', $file, '--replace');
is $rc, 0, 'import --replace' or diag $err;
is_deeply [ PitTest::Pitctl::integrity($r) ], [], 'integrity after --replace';
($rc, $d) = pj('show', $id{plain});
is_deeply $d, $show{plain}, 'replaced with the same';

# a name taken by another integration
$r->cmd('FLUSHALL');
my ($nid) = pj('create', '--name', 'APP PLAIN', '--account', 'acct1',
               '--scope', 'contacts.readonly');
($rc, undef, $err) = pc('import', $file);
is $rc, 3, 'the same name in the account: conflict';
like $err, qr/name "app plain" is held in account acct1/, '... says so';
is scalar($r->keys_matching('pit:int:*')), 1, 'nothing imported';

# a backup of another hash key
$r->cmd('FLUSHALL');
($rc, undef, $err) = PitTest::Pitctl::run($r, '--hash-key', $other, 'import', $file);
is $rc, 3, 'another hash key: refused';
like $err, qr/the backup was made with hash=hmac-sha256 key=[0-9a-f]{16}, pitctl hashes with/,
    '... says both';
is scalar($r->keys_matching('*')), 0, 'nothing written';

# a record that does not decode
my $broken = decode_json($backup);
$broken->{integrations}[1]{record}{tokens}[0]{role} = 'boss';
($rc, undef, $err) = pc('import', write_file("$dir/broken.json", encode_json($broken)));
is $rc, 1, 'a record that does not decode: exit 1';
like $err, qr/integration 2: the record does not decode/, '... says which';
is scalar($r->keys_matching('*')), 0, 'nothing written';

# the past deadline, settled at import
my $later = $now + 2 * 3600 * 1000;
($rc, undef, $err) = pc('import', $file, { now => $later });
is $rc, 0, 'import two hours later' or diag $err;
($rc, $d) = pj('show', $id{short}, { now => $later });
is $d->{state}, 'active', 'the 1 h rotation is settled';
is scalar(@{ $d->{tokens} }), 1, '... one token left';
is $d->{tokens}[0]{role}, 'primary', '... the next one, now primary';
my ($was_next) = grep { $_->{role} eq 'next' } @{ $show{short}{tokens} };
is $d->{tokens}[0]{hint}, $was_next->{hint}, '... the same hint';
($rc) = pc('check', $tok{short}[0], { now => $later });
is $rc, 2, 'the old token is gone';
($rc, $d) = pj('check', $tok{short}[1], { now => $later });
ok $rc == 0 && $d->{role} eq 'primary', 'the new token is the primary';
my $rec_short = $r->get_json("pit:int:$id{short}");
is scalar(@{ $rec_short->{tokens} }), 1, 'the stored record is settled too';
($rc, $d) = pj('show', $id{rotating}, { now => $later });
is $d->{state}, 'rotating', 'the 7 d rotation goes on';

my ($au) = (pj('audit', '--limit', '3'))[1];
is $au->[0]{action}, 'import', 'audit: import';
like $au->[0]{detail}, qr/tokens=pit-[0-9a-f]{4}\*/, '... with hints';

done_testing;

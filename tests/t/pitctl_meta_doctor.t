#!/usr/bin/perl
# The store mark (<prefix>meta) and pitctl doctor: an empty Redis, a wrong
# prefix, a wrong database, a wrong hash key, AOF off and on, an nginx
# configuration with a scope typo.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Temp qw(tempdir);
use Digest::SHA qw(sha256_hex);
use JSON::PP;
use PitTest;

plan skip_all => 'build/pitctl not built (make build/pitctl)'
    unless -x PitTest::Pitctl::bin();

my $r = PitTest::Redis->new;
my $dir = tempdir(CLEANUP => 1);
sub write_file { open my $f, '>', $_[0] or die; print $f $_[1]; close $f; $_[0] }
my $k1 = write_file("$dir/k1", "first-hash-key-0123456789\n");
my $k2 = write_file("$dir/k2", "second-hash-key-987654321\n");
my $fp1 = substr(sha256_hex('pit-auth key fingerprint' . 'first-hash-key-0123456789'), 0, 16);

sub pc { PitTest::Pitctl::run($r, @_) }
# doctor(@args) -> (rc, {check => [lines]}, stdout)
sub doctor {
    my ($rc, $out, $err) = PitTest::Pitctl::run(@_);
    my %f;
    for (split /\n/, $out) {
        push @{ $f{$2} }, "$1 $3" if /^(OK|WARN|FAIL)\s+(\S+)\s+(.*)$/;
    }
    return ($rc, \%f, $out . $err);
}
sub has { my ($f, $check, $re) = @_; scalar grep { /$re/ } @{ $f->{$check} || [] } }

# an empty Redis
my ($rc, $f, $all) = doctor($r, 'doctor');
is $rc, 3, 'doctor on an empty Redis: exit 3 (warnings)';
ok has($f, 'store-mark', qr/^WARN .*wrong prefix or database, or an empty Redis/),
    'empty: wrong prefix or database, or an empty Redis' or diag $all;
ok has($f, 'redis', qr/^OK reachable at 127\.0\.0\.1:\d+, db 0/), 'redis OK';
ok has($f, 'persistence', qr/^WARN AOF off/), 'AOF off: WARN';
ok has($f, 'acl', qr/^WARN the default user is on without a password/),
    'default user without password: WARN';

# the mark, written by the first change
my ($crc, $cout, $cerr) = pc('--hash-key', $k1, 'create', '--name', 'first',
                             '--account', 'acct1', '--scope', 'contacts.readonly');
is $crc, 0, 'create with a hash key' or diag $cerr;
my $m = $r->get_json('pit:meta');
is $m->{v}, 1, 'pit:meta v 1';
is $m->{hash}, 'hmac-sha256', 'hash mode';
is $m->{key_fingerprint}, $fp1, 'fingerprint: first 16 hex of SHA-256(context || key)';
like $m->{created_at}, qr/^\d{13}$/, 'created_at';
unlike $r->raw('GET', 'pit:meta'), qr/first-hash-key/, 'never the key';

($rc, $f, $all) = doctor($r, '--hash-key', $k1, 'doctor');
ok has($f, 'store-mark', qr/^OK hash=hmac-sha256 key=$fp1/), 'doctor: mark agrees'
    or diag $all;
ok has($f, 'counts', qr/1 integration, 1 token key/), 'counts';
ok has($f, 'records', qr/^OK 1 token records decode/), 'records decode';
ok has($f, 'orphans', qr/^OK/), 'no orphan';

# a wrong hash key: refused, doctor FAIL, --force-meta
my ($rc2, $out, $err) = pc('--hash-key', $k2, 'create', '--name', 'x',
                           '--account', 'acct1', '--scope', 'contacts.readonly');
is $rc2, 3, 'a change with another hash key: exit 3';
like $err, qr/refused: pit:meta is marked hash=hmac-sha256 key=$fp1.*--force-meta/,
    '... says both marks and --force-meta';
($rc2, $out, $err) = pc('create', '--name', 'x', '--account', 'acct1',
                        '--scope', 'contacts.readonly');
is $rc2, 3, 'a change without the hash key: exit 3';
($rc, $f, $all) = doctor($r, '--hash-key', $k2, 'doctor');
is $rc, 4, 'doctor with the wrong hash key: exit 4';
ok has($f, 'store-mark', qr/^FAIL the store is marked hash=hmac-sha256 key=$fp1, pitctl hashes with/),
    'doctor: FAIL on the mark' or diag $all;

# an orphan token key and an undecodable record
$r->cmd('SET', 'pit:tok:' . ('0' x 64), '{"v":1,"iid":"AAAAAAAAAAAAAAAAAAAA","acct":"a","acct_type":"location","scopes":["x.y"],"role":"primary","until":0}');
($rc, $f, $all) = doctor($r, '--hash-key', $k1, 'doctor');
ok has($f, 'orphans', qr/^WARN 1 token key that no integration lists/), 'orphan found'
    or diag $all;
$r->cmd('SET', 'pit:tok:' . ('1' x 64), 'not json');
($rc, $f) = doctor($r, '--hash-key', $k1, 'doctor');
ok has($f, 'records', qr/^FAIL 1 of \d+ token records do not decode/), 'bad record: FAIL';
$r->cmd('DEL', 'pit:tok:' . ('0' x 64), 'pit:tok:' . ('1' x 64));

# a wrong prefix, a wrong database
($rc, $f, $all) = doctor($r, '--hash-key', $k1, '--prefix', 'prod:', 'doctor');
ok has($f, 'store-mark', qr/no prod:meta and no integration under prefix "prod:" in db 0: wrong prefix or database/),
    'wrong prefix' or diag $all;
($rc, $f, $all) = doctor($r->url . '/5', '--hash-key', $k1, 'doctor');
ok has($f, 'store-mark', qr/in db 5: wrong prefix or database, or an empty Redis; db 0 holds \d+ keys/),
    'wrong db: names the database that holds keys' or diag $all;

# --force-meta re-marks, audited
($rc2, $out, $err) = pc('--hash-key', $k2, '--force-meta', 'create', '--name',
                        'y', '--account', 'acct1', '--scope', 'contacts.readonly');
is $rc2, 0, '--force-meta: exit 0' or diag $err;
isnt $r->get_json('pit:meta')->{key_fingerprint}, $fp1, 're-marked';
my ($au) = (PitTest::Pitctl::json($r, 'audit', '--limit', '5'))[1];
my ($fm) = grep { $_->{action} eq 'force-meta' } @$au;
like $fm->{detail} // '', qr/was hash=hmac-sha256 key=$fp1/, 'audit force-meta says what it was';

# the nginx configuration
my $conf = write_file("$dir/nginx-T.txt", <<"EOC");
# configuration file /etc/nginx/nginx.conf:
http {
    pit_auth_redis 127.0.0.1:@{[ $r->port ]};
    pit_auth_key_prefix pit:;
    pit_auth_hash_key $k2;
    server {
        location /x {
            pit_auth on;
            # a comment; pit_auth_scope ignored.here;
            pit_auth_scope "locations.reaonly contacts.readonly|contacts.write" \$dyn;
        }
    }
}
EOC
($rc, $f, $all) = doctor($r, '--hash-key', $k2, 'doctor', '--nginx-conf', $conf);
is $rc, 4, 'a scope typo: exit 4';
ok has($f, 'nginx', qr{^FAIL /etc/nginx/nginx\.conf:9: pit_auth_scope locations\.reaonly is not in the built-in catalogue \(did you mean locations\.readonly\?\)}),
    'the typo, with file:line and a suggestion' or diag $all;
ok has($f, 'nginx', qr/^OK .*pit_auth_redis 127\.0\.0\.1:\d+ db 0/), 'redis agrees';
ok has($f, 'nginx', qr/^OK .*pit_auth_hash_key .*the store's key/), 'hash key agrees';
ok !has($f, 'nginx', qr/ignored\.here/), 'comments are skipped';
(my $c2 = PitTest::slurp($conf)) =~ s/reaonly/readonly/;
$c2 =~ s/pit:;/other:;/;
$c2 =~ s/\Q$k2\E/$k1/;
$c2 =~ s/(pit_auth_redis \S+);/$1 db=2;/;
write_file($conf, $c2);
($rc, $f, $all) = doctor($r, '--hash-key', $k2, 'doctor', '--nginx-conf', '-',
                         { stdin => $c2 });
ok has($f, 'nginx', qr/^FAIL .*pit_auth_key_prefix other:, pitctl uses --prefix pit:/), 'wrong prefix in nginx' or diag $all;
ok has($f, 'nginx', qr/^FAIL .*reads db 2, pitctl writes db 0/), 'wrong db in nginx';
ok has($f, 'nginx', qr/^FAIL .*pit_auth_hash_key .* every token is 401/), 'wrong key in nginx';
ok has($f, 'nginx', qr/^OK .*pit_auth_scope: every constant scope/), 'scopes fine now';

# --json
my ($jrc, $j) = PitTest::Pitctl::json($r, '--hash-key', $k2, 'doctor');
is $jrc, 3, 'doctor --json: exit 3';
is $j->{status}, 'WARN', 'json status';
ok((grep { $_->{check} eq 'store-mark' && $_->{level} eq 'OK' } @{ $j->{findings} }),
   'json findings');

# AOF on
my $aof = PitTest::Redis->new(extra => ['--appendonly', 'yes']);
($rc, $f) = doctor($aof, 'doctor');
ok has($f, 'persistence', qr/^OK AOF on/), 'AOF on: OK';

# unreachable
($rc, $f) = doctor('redis://127.0.0.1:1', 'doctor');
is $rc, 4, 'unreachable: exit 4';
ok has($f, 'redis', qr/^FAIL unreachable/), 'unreachable: FAIL';

done_testing;

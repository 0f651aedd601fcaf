#!/usr/bin/perl
# Rotation end to end: tokens and changes made by pitctl, checked by nginx.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use POSIX qw(strftime);
use PitTest;
use PitModule;

my $t = PitModule->new(server => <<'END');
        add_header X-Role $pit_token_role always;
        add_header X-Expires-In $pit_token_expires_in always;
        add_header X-Status $pit_auth_status always;
        location /r/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
        location /w/ {
            pit_auth on;
            pit_auth_scope contacts.write;
            proxy_pass %%UP%%;
        }
END

sub st { $t->bearer($_[0] // '/r/x', $_[1])->{status} }

sub rotate {
    my ($id, @args) = @_;
    my ($rc, $data, $out, $err) =
        PitTest::Pitctl::json($t->redis, 'rotate', $id, @args);
    die "pitctl rotate: $rc $err" if $rc;
    return $data->{token};
}

sub pitctl_ok {
    my ($what, @args) = @_;
    my ($rc, $out, $err) = $t->pitctl(@args);
    is($rc, 0, "pitctl $args[0]: $what") or diag $err;
}

my ($id, $t1) = $t->token(account => 'acct1', scopes => ['contacts.readonly']);
is(st('/r/x', $t1), 200, 'created: 200');

# rotate later: both work, the old one announces its deadline
my $t2 = rotate($id, '--later', '--overlap', '1h');
ok($t2 && $t2 ne $t1, 'rotate later: a new token');
my $r1 = $t->bearer('/r/x', $t1);
my $r2 = $t->bearer('/r/x', $t2);
is($r1->{status}, 200, 'rotate later: old token 200');
is($r2->{status}, 200, 'rotate later: new token 200');
my $sunset = PitTest::HTTP::header($r1, 'Sunset') // '';
like($sunset, qr/^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/,
     "old token: Sunset $sunset");
my $want = time + 3600;
my @ok = map { strftime('%a, %d %b %Y %H:%M:%S GMT', gmtime($want + $_)) }
         -5 .. 1;
ok((grep { $_ eq $sunset } @ok), 'Sunset is the deadline');
ok(!defined PitTest::HTTP::header($r2, 'Sunset'), 'new token: no Sunset');
is(PitTest::HTTP::header($r1, 'X-Role'), 'previous', 'old token: previous');
is(PitTest::HTTP::header($r2, 'X-Role'), 'next', 'new token: next');
my $left = PitTest::HTTP::header($r1, 'X-Expires-In') // 0;
ok($left > 3590 && $left <= 3600, "expires in $left s");

# expire now: the old one dies, the new one is primary
pitctl_ok('expire-now', 'expire-now', $id);
is(st('/r/x', $t1), 401, 'expire now: old token 401');
is(st('/r/x', $t2), 200, 'expire now: new token 200');
is(PitTest::HTTP::header($t->bearer('/r/x', $t2), 'X-Role'), 'primary',
   'expire now: new token is primary');

# cancel: the new one dies, the old one is primary again
my $t3 = rotate($id, '--later');
is(st('/r/x', $t3), 200, 'second rotation: next token 200');
pitctl_ok('cancel-rotation', 'cancel-rotation', $id);
is(st('/r/x', $t3), 401, 'cancel: new token 401');
my $r = $t->bearer('/r/x', $t2);
is($r->{status}, 200, 'cancel: old token 200');
ok(!defined PitTest::HTTP::header($r, 'Sunset'), 'cancel: no Sunset');

# rotate now: every old token dies at once
my $t4 = rotate($id, '--now');
is(st('/r/x', $t2), 401, 'rotate now: old token 401');
is(st('/r/x', $t4), 200, 'rotate now: new token 200');

# edit scopes: the next request sees them
is(st('/w/x', $t4), 403, 'before edit: 403 without contacts.write');
pitctl_ok('edit', 'edit', $id, '--scope', 'contacts.readonly',
          '--scope', 'contacts.write');
is(st('/w/x', $t4), 200, 'after edit: 200');
pitctl_ok('edit back', 'edit', $id, '--scope', 'contacts.readonly');
is(st('/w/x', $t4), 403, 'after edit back: 403');

# a real deadline: next becomes primary, previous dies, no job running
my $t5 = rotate($id, '--later', '--overlap', '1s');
is(st('/r/x', $t4), 200, 'short overlap: old token 200');
sleep 1.2;
is(st('/r/x', $t4), 401, 'past the deadline: old token 401');
$r = $t->bearer('/r/x', $t5);
is($r->{status}, 200, 'past the deadline: new token 200');
is(PitTest::HTTP::header($r, 'X-Role'), 'primary',
   'past the deadline: new token effectively primary');

# delete
pitctl_ok('delete', 'delete', $id);
is(st('/r/x', $t5), 401, 'deleted: 401');

done_testing();

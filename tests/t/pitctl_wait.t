#!/usr/bin/perl
# pitctl --wait N: a change is reported as done only once N replicas have
# acknowledged it (Redis WAIT); with fewer, exit 4, a message saying the
# change is applied on the primary, and the change (and a new token) kept.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use Time::HiRes qw(time sleep);
use PitTest;

my $r = PitTest::Redis->new;
my @w = ('--wait', '1', '--wait-timeout', '300ms');

# --- no replica: the change stays, the admin is told --------------------

my $t0 = time;
my ($rc, $out, $err) = PitTest::Pitctl::run($r, @w, '--json', 'create',
    '--name', 'Unreplicated', '--account', 'acct1',
    '--scope', 'contacts.readonly');
my $took = time - $t0;
is $rc, 4, 'create --wait 1 without a replica: exit 4';
like $err, qr/applied on the primary, but 0 of 1 replicas acknowledged/,
    'create --wait 1: says the change is applied but not replicated';
cmp_ok $took, '>=', 0.25, sprintf('WAIT waited (%.0f ms)', $took * 1000);
my ($id) = $out =~ /"id"\s*:\s*"([A-Za-z0-9]{20})"/;
my ($tok) = $out =~ /"token"\s*:\s*"(pit-[0-9a-f-]{36})"/;
ok $id && $tok, 'the new token is still shown once';
is((PitTest::Pitctl::run($r, 'show', $id))[0], 0,
   'the integration exists on the primary');

($rc, $out, $err) = PitTest::Pitctl::run($r, @w, 'rotate', $id, '--now');
is $rc, 4, 'rotate --now --wait 1 without a replica: exit 4';
like((split /\n/, $out)[-1] // '', qr/^pit-[0-9a-f]{8}-/,
     'rotate: the new token stands on the last line all the same');

($rc, undef, $err) = PitTest::Pitctl::run($r, '--wait', 'x', 'list');
is $rc, 1, '--wait x: usage error';
($rc, undef, $err) = PitTest::Pitctl::run($r, '--wait', '1',
                                           '--wait-timeout', 'soon', 'list');
is $rc, 1, '--wait-timeout soon: usage error';
is((PitTest::Pitctl::run($r, @w, 'list'))[0], 0,
   'reads do not wait for replicas');

# --- one replica: acknowledged, exit 0 -----------------------------------

my $replica = PitTest::Redis->new(extra => ['--replicaof', '127.0.0.1',
                                            $r->port]);
my $end = time + 10;
sleep 0.05 until $replica->raw('INFO', 'replication')
                 =~ /master_link_status:up/ || time > $end;
like $replica->raw('INFO', 'replication'), qr/master_link_status:up/,
    'replica in sync';

($rc, $out, $err) = PitTest::Pitctl::run($r, '--wait', '1',
    '--wait-timeout', '5s', '--json', 'create', '--name', 'Replicated',
    '--account', 'acct1', '--scope', 'contacts.readonly');
is $rc, 0, 'create --wait 1 with a replica: exit 0' or diag $err;
my ($rid) = $out =~ /"id"\s*:\s*"([A-Za-z0-9]{20})"/;
ok $rid && length $replica->raw('GET', "pit:int:$rid"),
    'the replica holds the new integration when pitctl returns';

is((PitTest::Pitctl::run($r, '--wait', '1', 'delete', $rid))[0], 0,
   'delete --wait 1 with a replica: exit 0');
is $replica->raw('EXISTS', "pit:int:$rid"), 0,
    'the replica no longer holds it when pitctl returns';

$replica->stop;
$r->stop;
done_testing;

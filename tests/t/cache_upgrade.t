#!/usr/bin/perl
# Upgrading the module without a restart: a reload (HUP) that loads the
# same module path (even with a new file renamed over it: the loaded build
# stays) keeps the cache zone and its entries; a reload that
# loads another module file (a new build copied beside the old one) gets a
# fresh zone, because nginx reuses a zone only for the same tag (the
# module's address), so a new build never reads entries laid out by the old
# one.  Requests are answered right throughout, with no [alert] or [crit].

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Copy qw(copy);
use File::Temp qw(tempdir);
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;
use PitCache;

plan skip_all => 'the module is built into this nginx'
    if defined $ENV{PIT_NGINX_MODULE} && $ENV{PIT_NGINX_MODULE} eq '';

# the module under test: the one built for this nginx (nginx refuses a
# module built for another version)
my $so = $ENV{PIT_NGINX_MODULE}
         // PitTest::top() . '/build/ngx_http_pit_auth_module.so';
my $tmp = tempdir(CLEANUP => 1);
copy($so, "$tmp/old.so") or die "copy: $!";
copy($so, "$tmp/new.so") or die "copy: $!";

local $ENV{PIT_NGINX_MODULE} = "$tmp/old.so";
my $t = PitCache::nginx(workers => 1);
sleep 0.05 until (PitCache::stats($t)->{subscriber} // '') eq 'up';

my ($id, $tok) = $t->token(account => 'acct1');

sub reload_to {
    my ($module) = @_;
    my @old = $t->nginx->worker_pids;
    my $conf = PitTest::slurp($t->nginx->conf);
    $conf =~ s{^load_module \S+;}{load_module $module;}m or die;
    open my $fh, '>', $t->nginx->conf or die;
    print $fh $conf;
    close $fh;
    $t->nginx->reload;
    my $end = time + 5;
    while (time < $end) {
        my %now = map { $_ => 1 } $t->nginx->worker_pids;
        last if %now && !grep { $now{$_} } @old;
        sleep 0.05;
    }
    sleep 0.05 until (PitCache::stats($t)->{subscriber} // '') eq 'up'
                     || time > $end;
}

is($t->bearer('/api/x', $tok)->{status}, 200, "200 ($_)") for 1 .. 3;
my $s = PitCache::stats($t);
is($s->{misses}, 1, 'one miss, then hits');
is($s->{entries}, 1, 'one entry');
my $hits = $s->{hits};
cmp_ok($hits, '>=', 2, "$hits hits");

# a new build renamed over the loaded file: nginx asks for the same path,
# and the dynamic loader hands back what it has loaded under that name
copy($so, "$tmp/old.so.tmp") or die "copy: $!";
rename("$tmp/old.so.tmp", "$tmp/old.so") or die "rename: $!";
reload_to("$tmp/old.so");
is($t->bearer('/api/x', $tok)->{status}, 200, 'same module reloaded: 200');
$s = PitCache::stats($t);
is($s->{misses}, 1, 'same module reloaded: the zone kept, no new miss');
is($s->{hits}, $hits + 1, 'same module reloaded: the entry still hit');

reload_to("$tmp/new.so");
$s = PitCache::stats($t);
is($s->{entries}, 0, 'another module file: a fresh zone, empty');
is($s->{hits} + $s->{misses}, 0, 'another module file: fresh counters');
is($t->bearer('/api/x', $tok)->{status}, 200, 'another module file: 200');
$s = PitCache::stats($t);
is($s->{misses}, 1, 'another module file: looked up again');
is($t->bearer('/api/x', PitCache::random_token())->{status}, 401,
   'another module file: an unknown token 401');

my ($rc) = $t->pitctl('delete', $id);
is($rc, 0, 'the integration deleted');
my $end = time + 2;
my $st = 200;
while (time < $end) {
    $st = $t->bearer('/api/x', $tok)->{status};
    last if $st == 401;
    sleep 0.02;
}
is($st, 401, 'another module file: revocation still reaches the new zone');


done_testing();

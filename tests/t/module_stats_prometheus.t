#!/usr/bin/perl
# pit_auth_stats counts every decision by status, shared by all workers,
# and answers in Prometheus' text format (0.0.4) with ?format=prometheus or
# "pit_auth_stats prometheus;".  A known mix of requests, each status at
# least once, then the exact counts in JSON ("requests") and in the
# exposition, which a strict reader checks whole (tests/t/lib/PitProm.pm).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use JSON::PP ();
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;
use PitProm;

my $data = PitTest::top() . '/tests/data/highlevel';
my $closed = PitTest::free_port();
my $t = PitModule->new(workers => 2, server => <<"END");
        add_header X-Status \$pit_auth_status always;
        location /api/ {
            pit_auth on;
            pit_auth_cache zone=auth:1m;
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
        location /write {
            pit_auth on;
            pit_auth_scope contacts.write;
            proxy_pass %%UP%%;
        }
        location ~ ^/acct/(?<acct>[^/]+) {
            pit_auth on;
            pit_auth_account \$acct;
            proxy_pass %%UP%%;
        }
        location /down {
            pit_auth on;
            pit_auth_redis 127.0.0.1:$closed;
            proxy_pass %%UP%%;
        }
        location /replica {
            pit_auth on;
            pit_auth_redis_read %%REDIS%%;
            proxy_pass %%UP%%;
        }
        location /contacts/ {
            pit_auth on;
            pit_auth_openapi $data/contacts.json;
            proxy_pass %%UP%%;
        }
        location = /stats {
            pit_auth_stats;
        }
        location = /metrics {
            pit_auth_stats prometheus;
        }
        location = /stats.json {
            pit_auth_stats json;
        }
END

my ($id, $tok) = $t->token(account => 'acct1',
                           scopes => ['contacts.readonly']);

# a previous token past its deadline, still in Redis: "expired"
my ($id2, $old) = $t->token(account => 'acct1');
my $key = PitTest::Pitctl::token_key($old);
my $rec = $t->redis->raw('GET', $key);
my $past = int(time * 1000) - 1000;
$rec =~ s/"role":"primary"/"role":"previous"/;
$rec =~ s/"until":\d+/"until":$past/;
$t->redis->cmd('SET', $key, $rec);

my $unknown = 'pit-00000000-0000-4000-8000-000000000000';
my @mix = (
    [ok => 3, '/api/x', $tok],
    [ok => 1, '/replica/x', $tok],
    [missing => 2, '/api/x'],
    [malformed => 1, '/api/x', "$tok x"],
    [invalid => 2, '/api/x', $unknown],
    [expired => 1, '/api/x', $old],
    [insufficient_scope => 1, '/write', $tok],
    [wrong_account => 1, '/acct/acct2', $tok],
    [no_route => 1, '/contacts/no/such/route', $tok],
    [ambiguous => 2, '/api/a/../b', $tok],
    [unavailable => 1, '/down/x', $tok],
);
my %want = map { $_ => 0 } qw(ok missing malformed invalid expired
    insufficient_scope wrong_account unavailable no_route ambiguous);

for my $m (@mix) {
    my ($status, $n, $path, $token) = @$m;
    for (1 .. $n) {
        my $r = defined $token ? $t->bearer($path, $token) : $t->get($path);
        is($r->{headers}{'x-status'}[0], $status, "$path: $status");
    }
    $want{$status} += $n;
}

# not decided by pit_auth: counted nowhere
is($t->get('/open')->{status}, 200, 'a location without pit_auth');

my $r = $t->get('/stats');
is($r->{headers}{'content-type'}[0], 'application/json', 'JSON by default');
my $json = eval { JSON::PP->new->decode($r->{body}) } // {};
is_deeply($json->{requests}, \%want, 'JSON: requests per status, exact')
    or diag $r->{body};
is_deeply(JSON::PP->new->decode($t->get('/stats.json')->{body})->{requests},
          \%want, 'pit_auth_stats json; the same');
ok(exists $json->{log_suppressed}, 'JSON: log_suppressed');
is(JSON::PP->new->decode($t->get('/metrics?format=json')->{body})
       ->{requests}{ok}, $want{ok}, '?format=json on a prometheus location');
is($t->get('/stats?format=yaml')->{status}, 400, '?format=yaml: 400');

# the replica's lag is measured within a second or so
my $end = time + 5;
sleep 0.1 until $t->get('/metrics')->{body} =~ /^pit_auth_backend_fresh\S* 1$/m
                || time > $end;

for my $how (['?format=prometheus', '/stats?format=prometheus'],
             ['pit_auth_stats prometheus;', '/metrics'])
{
    my ($name, $path) = @$how;
    my $res = $t->get($path);
    is($res->{status}, 200, "$name: 200");
    is($res->{headers}{'content-type'}[0],
       'text/plain; version=0.0.4; charset=utf-8', "$name: content type");
    my ($fam, @err) = PitProm::parse($res->{body});
    ok(!@err, "$name: a valid exposition") or diag join "\n", @err, $res->{body};

    for my $s (sort keys %want) {
        is(PitProm::value($fam, 'pit_auth_requests_total', status => $s),
           $want{$s}, "$name: requests_total{status=\"$s\"}");
    }
    is(scalar keys %{ $fam->{pit_auth_requests_total}{samples} },
       scalar keys %want, "$name: one series per status name");
    is($fam->{pit_auth_requests_total}{type}, 'counter', "$name: a counter");
    like(PitProm::value($fam, 'pit_auth_log_suppressed_total'), qr/^\d+$/,
         "$name: log_suppressed_total");

    my %zone = (zone => 'auth');
    is(PitProm::value($fam, 'pit_auth_cache_size_bytes', %zone), 1048576,
       "$name: zone size");
    # /api/ looked up: the good token (a miss, then hits), the unknown one
    # (a miss, then a negative hit), the expired one (a miss)
    is(PitProm::value($fam, 'pit_auth_cache_entries', %zone), 3,
       "$name: three tokens cached");
    is(PitProm::value($fam, 'pit_auth_cache_misses_total', %zone), 3,
       "$name: misses");
    is(PitProm::value($fam, 'pit_auth_cache_hits_total', %zone), 2,
       "$name: hits");
    is(PitProm::value($fam, 'pit_auth_cache_negative_hits_total', %zone), 1,
       "$name: negative hits");
    is(PitProm::value($fam, 'pit_auth_cache_subscriber_up', %zone), 1,
       "$name: subscriber up");

    # every other one as the JSON says
    my $z = JSON::PP->new->decode($t->get('/stats')->{body})->{zones}{auth};
    for my $m (qw(free entries negative_hits stores evictions expirations
                  invalidations flushes stale stale_refused redis_errors
                  last_used_writes last_used_dropped))
    {
        my $p = $m =~ /^(free|entries)$/ ? ($m eq 'free' ? 'free_bytes' : $m)
                                          : "${m}_total";
        is(PitProm::value($fam, "pit_auth_cache_$p", %zone), $z->{$m},
           "$name: cache_$p as in JSON");
    }

    my $port = $t->redis->port;
    my %be = (backend => "127.0.0.1:$port read=127.0.0.1:$port");
    is(PitProm::value($fam, 'pit_auth_backend_fresh', %be), 1,
       "$name: backend fresh");
    is(PitProm::value($fam, 'pit_auth_backend_read_replica', %be), 1,
       "$name: reads a replica");
    like(PitProm::value($fam, 'pit_auth_backend_lag_seconds', %be),
         qr/^\d+\.\d{3}$/, "$name: lag in seconds");
    is(PitProm::value($fam, 'pit_auth_backend_max_lag_seconds', %be),
       '30.000', "$name: max lag, the default");
    for my $m (qw(failovers_total doubts_total writes_dropped_total)) {
        like(PitProm::value($fam, "pit_auth_backend_$m", %be), qr/^\d+$/,
             "$name: backend_$m");
    }
}

# a reload keeps the counts: the zone is reused
my @old = $t->nginx->worker_pids;
$t->nginx->reload;
$end = time + 5;
while (time < $end) {
    my %now = map { $_ => 1 } $t->nginx->worker_pids;
    last if %now && !grep { $now{$_} } @old;
    sleep 0.05;
}
is_deeply(JSON::PP->new->decode($t->get('/stats')->{body})->{requests},
          \%want, 'after a reload: the same counts');

is_deeply([$t->bad_log_lines], [], 'no [alert], [crit] or [emerg]');

# Label values escaped: a zone named with a quote and a backslash.
my $t2 = PitModule->new(server => <<'END');
        location /api/ {
            pit_auth on;
            pit_auth_cache 'zone=we"ird\\zone:1m';
            proxy_pass %%UP%%;
        }
        location = /metrics {
            pit_auth_stats prometheus;
        }
END
$r = $t2->get('/metrics');
like($r->{body}, qr/^pit_auth_cache_entries\{zone="we\\"ird\\\\zone"\} 0$/m,
     'a quote and a backslash escaped');
my ($fam2, @err2) = PitProm::parse($r->{body});
ok(!@err2, 'a valid exposition') or diag join "\n", @err2;
is(PitProm::value($fam2, 'pit_auth_cache_entries', zone => 'we"ird\\zone'),
   0, 'read back');
is(PitProm::value($fam2, 'pit_auth_requests_total', status => 'ok'), 0,
   'every status from the start, at 0');
ok(!exists $fam2->{pit_auth_backend_fresh}, 'no backend families without '
   . 'a fleet');

done_testing();

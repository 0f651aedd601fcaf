#!/usr/bin/perl
# make bench: what pit_auth costs, against plain nginx and against Redis.
#
# Starts one redis-server and one nginx (one worker, pinned to its own core
# when there are two or more), one server block per case, each with the
# same `location /` (each case configures pit_auth inside it) serving the
# same small static file, and runs the
# cases interleaved in rounds (A B C ... A B C ...), reporting medians.
# Then, on a single nginx process under callgrind, instructions per request;
# then zone bytes per cached token from the pit_auth_stats counters.
#
# Cases that need a directive the built module lacks (pit_auth_cache,
# pit_auth_openapi, pit_auth_stats) are detected with `nginx -t` on a probe
# configuration and reported as not measurable rather than faked.
#
# Environment (all optional):
#   BENCH_SMOKE=1          2 s per case, one round, status codes only
#   BENCH_SECONDS=N        seconds per case per round (default 3)
#   BENCH_ROUNDS=N         rounds (default 5)
#   BENCH_CONNECTIONS=N    wrk connections = redis-benchmark clients (64)
#   BENCH_CALLGRIND_REQUESTS=N  requests per case under callgrind (2000);
#                          0 skips callgrind
#   BENCH_ZONE_TOKENS=N    tokens cached for the zone-bytes figure (10000)
#   BENCH_CASES="off,miss" only these cases
#   BENCH_MODULE=FILE      the .so to load (default build/...)
#   BENCH_OPENAPI="F1 F2"  OpenAPI files (default tests/data/highlevel/
#                          {calendars,contacts,conversations}.json)
#   BENCH_OUT=FILE         the table (default build/bench.md, smoke:
#                          build/bench-smoke.md)
#
# Core Perl only; wrk, redis-benchmark, valgrind, taskset from Debian.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../t/lib";
use PitTest qw(free_port run_cmd slurp);
use PitCache ();    # random_token, random_iid, resp: shared with the tests
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use IO::Socket::INET;
use JSON::PP ();
use Digest::SHA qw(sha256_hex);
use POSIX qw(floor strftime WNOHANG);
use Time::HiRes qw(time sleep);

$| = 1;

my $TOP = PitTest::top();
my $SMOKE = $ENV{BENCH_SMOKE} ? 1 : 0;
my $SECS = $ENV{BENCH_SECONDS} // ($SMOKE ? 2 : 3);
my $ROUNDS = $ENV{BENCH_ROUNDS} // ($SMOKE ? 1 : 5);
my $CONNS = $ENV{BENCH_CONNECTIONS} // 64;
my $CG_REQS = $ENV{BENCH_CALLGRIND_REQUESTS} // ($SMOKE ? 0 : 2000);
my $ZONE_TOKENS = $ENV{BENCH_ZONE_TOKENS} // ($SMOKE ? 0 : 10000);
my $MISS_TOKENS = 1000;
my $UNKNOWN_TOKENS = 1000;
my $MODULE = $ENV{BENCH_MODULE} // "$TOP/build/ngx_http_pit_auth_module.so";
my $OUT = $ENV{BENCH_OUT}
    // ($SMOKE ? "$TOP/build/bench-smoke.md" : "$TOP/build/bench.md");
my $ARTS = "$TOP/build/bench";
my $NGINX = '/usr/sbin/nginx';
my $PATH = '/contacts/c0ffee';      # GET /contacts/{contactId}: a route
my $BODY = "{\"contact\":{\"id\":\"c0ffee\",\"name\":\"bench\"}}\n";
my $SCOPE = 'contacts.readonly';
my @OPENAPI = $ENV{BENCH_OPENAPI}
    ? split(' ', $ENV{BENCH_OPENAPI})
    : map { "$TOP/tests/data/highlevel/$_.json" }
          qw(calendars contacts conversations);

die "bench: $MODULE not built (run make)\n" unless -f $MODULE;
for my $tool (qw(wrk redis-server redis-cli redis-benchmark)) {
    die "bench: $tool not found (run make deps)\n" unless which($tool);
}

my $DIR = tempdir('pit-bench-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $DIR;                  # nginx workers run as nobody

# nginx maps the .so: a build that rewrites build/ in place while the
# bench runs would crash every worker (and every respawned one).  Load a
# private copy.
{
    my $copy = "$DIR/ngx_http_pit_auth_module.so";
    my ($rc, $out, $err) = run_cmd(['cp', $MODULE, $copy]);
    die "bench: cannot copy $MODULE: $err" if $rc;
    chmod 0755, $copy;
    $MODULE = $copy;
}
make_path("$DIR/html/contacts", $ARTS);
chmod 0755, "$DIR/html", "$DIR/html/contacts";
spew("$DIR/html$PATH", $BODY);
chmod 0644, "$DIR/html$PATH";

my @STARTED;                        # [pid, signal] to stop at the end
END { stop_all() }
$SIG{INT} = $SIG{TERM} = sub { stop_all(); exit 130 };

###########################################################################
# Cores: nginx's worker on the first allowed one, wrk (and redis-benchmark)
# on the second, Redis on the third if there is one, else beside wrk.

my @CPUS = allowed_cpus();
my $NCPU = @CPUS;
my ($CPU_NGX, $CPU_WRK, $CPU_REDIS) =
    $NCPU >= 3 ? @CPUS[0, 1, 2]
  : $NCPU == 2 ? @CPUS[0, 1, 1]
  :              (undef, undef, undef);
my @TASKSET_WRK = defined $CPU_WRK ? ('taskset', '-c', $CPU_WRK) : ();

note(sprintf "bench: %d core(s)%s; %s", $NCPU,
     defined $CPU_NGX ? "; nginx worker on cpu $CPU_NGX, wrk on cpu "
                        . "$CPU_WRK, redis on cpu $CPU_REDIS" : ' (unpinned)',
     $SMOKE ? "smoke mode: status codes only"
            : "$ROUNDS rounds of $SECS s per case, $CONNS connections");

###########################################################################
# Redis and tokens

my $redis = PitTest::Redis->new(dir => $DIR);
run_cmd(['taskset', '-pc', $CPU_REDIS, $redis->pid]) if defined $CPU_REDIS;

my ($hit_iid, $hit_tok) = PitTest::Pitctl::create($redis,
    account => 'bench', name => 'bench-hit', scopes => [$SCOPE]);
die "bench: pitctl create failed\n" unless $hit_tok;
my $template = $redis->raw('GET', PitTest::Pitctl::token_key($hit_tok));
die "bench: no token record for the pitctl token\n"
    unless $template =~ /"iid":"[^"]+"/;
my $REC_LEN = length $template;

# Valid tokens for the miss case and the zone-bytes figure: records in the
# exact shape pitctl wrote for the hit token, one integration id each,
# written in one redis-cli --pipe (1,000s of pitctl runs would take
# minutes and measure nothing more).
# A second shape for the zone-bytes figure: ten scopes and a 20-character
# account id (a HighLevel location id's length), a wider, realistic record.
my @WIDE_SCOPES = qw(contacts.readonly contacts.write calendars.readonly
    calendars.write calendars/events.readonly calendars/events.write
    conversations.readonly conversations.write
    conversations/message.readonly conversations/message.write);
(my $wide = $template) =~ s/"scopes":\[[^\]]*\]/'"scopes":['
    . join(',', map { "\"$_\"" } @WIDE_SCOPES) . ']'/e;
$wide =~ s/"acct":"[^"]*"/"acct":"Ve9EPM428h8vShlRW1KT"/;
my $n_valid = $MISS_TOKENS > $ZONE_TOKENS ? $MISS_TOKENS : $ZONE_TOKENS;
my @valid = map { PitCache::random_token() } 1 .. $n_valid;
my @valid_wide = map { PitCache::random_token() } 1 .. $ZONE_TOKENS;
{
    my $in = '';
    for my $set ([\@valid, $template], [\@valid_wide, $wide]) {
        my ($toks, $tmpl) = @$set;
        for my $tok (@$toks) {
            (my $rec = $tmpl) =~
                s/"iid":"[^"]+"/'"iid":"' . PitCache::random_iid() . '"'/e;
            $in .= PitCache::resp('SET',
                                  PitTest::Pitctl::token_key($tok), $rec);
        }
    }
    my ($rc, $out, $err) = run_cmd(['redis-cli', '-p', $redis->port,
                                    '--pipe'], stdin => $in);
    die "bench: redis-cli --pipe: $err$out" if $rc;
}
my @unknown = map { PitCache::random_token() } 1 .. $UNKNOWN_TOKENS;
my @malformed = ('Bearer pit-1234',
                 'Bearer ' . uc $hit_tok,
                 'Bearer ' . substr($hit_tok, 0, 39) . 'g',
                 'Bearer ' . $hit_tok . 'x',
                 'Bearer ' . ('pit-' . 'z' x 36));

my %TOKFILE;
write_tokens(hit => ["Bearer $hit_tok"]);
write_tokens(miss => [map { "Bearer $_" } @valid[0 .. $MISS_TOKENS - 1]]);
write_tokens(unknown => [map { "Bearer $_" } @unknown]);
write_tokens(malformed => \@malformed);

###########################################################################
# What the built module can do

my %HAVE;
$HAVE{cache} = probe("pit_auth_cache zone=probe:1m;", '');
$HAVE{stats} = probe('', 'location = /s { pit_auth_stats; }');
$HAVE{openapi} = (!grep { !-f $_ } @OPENAPI)
    && probe('', "location /o { pit_auth on; pit_auth_openapi @OPENAPI; }");
$HAVE{auth_request} = probe('', 'location /a { auth_request /b; }');
note('bench: module has ' . join(', ', map { "$_ " . ($HAVE{$_} ? 'yes' : 'no') }
                                       qw(cache openapi stats auth_request)));

###########################################################################
# The cases

my $AUTH = "pit_auth on;\n            pit_auth_scope $SCOPE;";
my @CASES = (
    { name => 'off', tokens => 'hit', expect => 200, conf => '',
      what => 'pit_auth off: the ceiling (the same Authorization header '
              . 'is sent)' },
    { name => 'hit', tokens => 'hit', expect => 200, need => ['cache'],
      conf => "$AUTH\n            pit_auth_cache zone=bench_hit:8m;",
      what => 'one valid token, cache on: every request a cache hit' },
    { name => 'hit-openapi', tokens => 'hit', expect => 200,
      need => ['cache', 'openapi'],
      conf => "pit_auth on;\n            pit_auth_openapi @OPENAPI;\n"
              . "            pit_auth_cache zone=bench_api:8m;",
      what => 'as hit, scope from the route table of the three reference '
              . 'OpenAPI files (GET /contacts/{contactId})' },
    { name => 'miss', tokens => 'miss', expect => 200, conf => $AUTH,
      what => "cache off, $MISS_TOKENS distinct valid tokens round-robin: "
              . 'every request is a Redis GET' },
    { name => 'malformed', tokens => 'malformed', expect => 401,
      conf => $AUTH,
      what => 'a flood of malformed tokens (5 shapes), cache off: must cost '
              . 'no Redis command' },
    { name => 'unknown', tokens => 'unknown', expect => 401,
      conf => $HAVE{cache}
          ? "$AUTH\n            pit_auth_cache zone=bench_neg:8m;" : $AUTH,
      what => "$UNKNOWN_TOKENS well-formed unknown tokens round-robin, "
              . ($HAVE{cache} ? 'negative cache on'
                              : 'no cache in this build: every one a GET') },
    { name => 'auth_request', tokens => 'hit', expect => 200,
      need => ['auth_request'],
      conf => 'auth_request /_auth;',
      extra => 'location = /_auth { internal; return 204; }',
      what => "stock auth_request to an internal location answering 204 "
              . "(a floor for that approach: no token is checked)" },
    { name => 'redis-benchmark', kind => 'redis',
      what => "redis-benchmark -t get, $CONNS clients, $REC_LEN-byte "
              . 'values (a token record\'s size): the ceiling of miss' },
);
if ($ENV{BENCH_CASES}) {
    my %want = map { $_ => 1 } split /[\s,]+/, $ENV{BENCH_CASES};
    $want{off} = 1;
    @CASES = grep { $want{ $_->{name} } } @CASES;
}
for my $c (@CASES) {
    my @missing = grep { !$HAVE{$_} } @{ $c->{need} // [] };
    $c->{skip} = 'needs ' . join(' and ', map { directive_of($_) } @missing)
        . ', not in this build' if @missing;
}
my @RUN = grep { !$_->{skip} } @CASES;
my @NGX = grep { !$_->{kind} } @RUN;

###########################################################################
# nginx

$_->{port} = free_port() for @NGX;
my $STATS_PORT = free_port();
my $ZONE = $HAVE{cache} && $HAVE{stats} && $ZONE_TOKENS > 0;

my $ngx = start_nginx("$DIR/ngx", master => 1);

note('bench: checking status codes');
my $check_ok = 1;
for my $c (@RUN) {
    if ($c->{kind}) {
        redis_prefill();
        my $r = redis_bench($SMOKE ? 20000 : 50000);
        $c->{check} = $r->{rps} ? "ran ($r->{n} GETs)" : 'FAILED';
        $check_ok = 0 unless $r->{rps};
        next;
    }
    # the tally run also warms up: caches fill, connections open
    my $w = wrk($c, $SMOKE ? $SECS : 1, tally => 1);
    my %st = %{ $w->{status} };
    my $total = 0;
    $total += $_ for values %st;
    # A 503 is the module failing closed when a Redis reply is late: on a
    # starved machine (other jobs on both cores) a few may happen in the
    # cases that ask Redis; up to 0.5% is reported, not failed.
    my $late = ($c->{expect} == 200 && $c->{name} ne 'off'
                && ($st{503} // 0) * 200 <= $total) ? ($st{503} // 0) : 0;
    my $bad = join ', ', map { "$st{$_} x $_" }
                         grep { $_ != $c->{expect}
                                && !($_ == 503 && $late) } sort keys %st;
    my $ok = !$bad && ($st{ $c->{expect} } // 0) > 0 && !$w->{errors};
    if ($late || !$ok) {
        my @why = grep { /pit_auth/ } split /\n/,
                  slurp("$ngx->{dir}/logs/error.log");
        note("  $c->{name}: " . ($late ? "$late x 503 (fail closed)" : 'failed')
             . '; last module log lines:');
        note("    $_") for @why[($#why > 4 ? $#why - 4 : 0) .. $#why];
    }
    $c->{check} = sprintf '%s: %d x %d%s%s%s', $ok ? 'ok' : 'FAILED',
        $st{ $c->{expect} } // 0, $c->{expect}, $bad ? ", $bad" : '',
        $late ? ", $late x 503 (Redis reply late, fail closed)" : '',
        $w->{errors} ? ", socket errors: $w->{errors}" : '';
    $check_ok &&= $ok;
}
note(sprintf "  %-16s %s", $_->{name}, $_->{check}) for @RUN;

my %R;          # case name => [ per-round results ]
my $STAT0 = cpu_stat();
my $WCPU0 = proc_cpu_ns($ngx->{worker});
unless ($SMOKE) {
    for my $round (1 .. $ROUNDS) {
        note("bench: round $round/$ROUNDS");
        for my $c (@RUN) {
            my $r = $c->{kind} ? measure_redis($c) : measure_nginx($c);
            push @{ $R{ $c->{name} } }, $r;
            # in the timed rounds wrk counts non-2xx only: all or none
            my $want = $c->{kind} ? 0
                     : $c->{expect} == 200 ? 0 : $r->{requests};
            if ($r->{non2xx} != $want || ($r->{errors} // 0)) {
                $c->{round_bad}++;
                $check_ok = 0;
            }
            note(sprintf "  %-16s %9.0f req/s  p50 %7.1f us  p99 %8.1f us"
                 . "%s", $c->{name}, $r->{rps}, $r->{p50}, $r->{p99},
                 defined $r->{cpu} ? sprintf('  cpu %.2f us/req', $r->{cpu})
                                   : '');
        }
    }
}

my $STAT1 = cpu_stat();
my $WCPU1 = proc_cpu_ns($ngx->{worker});
my %ZB;
%ZB = zone_bytes() if $ZONE;
stop_nginx($ngx);
my @BAD_LOG = bad_log_lines($ngx);
$check_ok = 0 if @BAD_LOG;

my %IR;
%IR = callgrind() if $CG_REQS > 0 && which('valgrind');

report();
exit($check_ok ? 0 : 1);

###########################################################################
# Measurements

sub measure_nginx {
    my ($c) = @_;
    my $pid = $ngx->{worker};
    # lookups of the previous case's last requests land in Redis after wrk
    # exits: let them, so that they are not counted here
    sleep 0.3;
    my $rs0 = redis_info();
    my ($t0, $cpu0) = (time, proc_cpu_ns($pid));
    my $w = wrk($c, $SECS);
    my ($t1, $cpu1) = (time, proc_cpu_ns($pid));
    my $rs1 = redis_info();
    my $n = $w->{requests} || 1;
    return {
        %$w,
        by => by_command($rs0, $rs1),
        cpu => ($cpu1 - $cpu0) / 1000 / $n,
        busy => ($cpu1 - $cpu0) / 1e9 / ($t1 - $t0) * 100,
        cmds => ($rs1->{calls} - $rs0->{calls}) / $n,
        rcpu => ($rs1->{cpu} - $rs0->{cpu}) * 1e6 / $n,
    };
}

sub measure_redis {
    my ($c) = @_;
    my $last = $R{ $c->{name} } ? $R{ $c->{name} }[-1]{rps} : 0;
    my $n = int(($last || 100000) * $SECS);
    sleep 0.3;
    my $rs0 = redis_info();
    my $r = redis_bench($n);
    my $rs1 = redis_info();
    return { %$r, cmds => ($rs1->{calls} - $rs0->{calls}) / $n,
             rcpu => ($rs1->{cpu} - $rs0->{cpu}) * 1e6 / $n };
}

# Runs wrk on one case; returns requests, rps, p50, p99 (us), non2xx,
# errors, status (with tally).
sub wrk {
    my ($c, $secs, %o) = @_;
    my @cmd = (@TASKSET_WRK, 'wrk', '-t1', "-c$CONNS", "-d${secs}s",
               '--latency', '-s', "$FindBin::Bin/bench.lua",
               "http://127.0.0.1:$c->{port}$PATH", '--',
               $TOKFILE{ $c->{tokens} }, $o{tally} ? 'tally' : ());
    my ($rc, $out, $err) = run_cmd(\@cmd, timeout => $secs + 60);
    die "bench: wrk failed ($rc): $err$out" if $rc;
    my %r = (status => {}, non2xx => 0, errors => 0);
    ($r{requests}) = $out =~ /^\s*(\d+) requests in/m;
    ($r{rps}) = $out =~ /^Requests\/sec:\s*([\d.]+)/m;
    $r{p50} = to_us($out =~ /^\s*50%\s+([\d.]+\w+)/m);
    $r{p99} = to_us($out =~ /^\s*99%\s+([\d.]+\w+)/m);
    ($r{non2xx}) = $out =~ /Non-2xx or 3xx responses: (\d+)/;
    $r{non2xx} //= 0;
    if ($out =~ /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/) {
        $r{errors} = $1 + $2 + $3;      # a timeout is slowness, not a fault
        $r{timeouts} = $4;
    }
    $r{status}{$1} = $2 while $out =~ /^status (\d+) (\d+)$/mg;
    die "bench: cannot read wrk's output:\n$out" unless $r{requests};
    return \%r;
}

sub redis_prefill {
    state_once('prefill') or return;
    # redis-benchmark retries a dead server forever: never without a limit
    redis_alive() or return;
    run_cmd([@TASKSET_WRK, 'redis-benchmark', '-h', '127.0.0.1',
             '-p', $redis->port, '-c', $CONNS, '-n', 20000, '-t', 'set',
             '-d', $REC_LEN, '-r', 1000, '-q'], timeout => 60);
}

sub redis_bench {
    my ($n) = @_;
    my %r = (n => $n, requests => $n, non2xx => 0);
    redis_alive() or return \%r;
    my ($rc, $out, $err) = run_cmd([@TASKSET_WRK, 'redis-benchmark',
        '-h', '127.0.0.1', '-p', $redis->port, '-c', $CONNS, '-n', $n,
        '-t', 'get', '-d', $REC_LEN, '-r', 1000, '--csv'],
        timeout => 10 * $SECS + 60);
    for (split /\n/, $out) {
        my @f = map { s/"//gr } split /,/;
        next unless @f >= 7 && $f[0] eq 'GET';
        @r{qw(rps p50 p99)} = ($f[1], $f[4] * 1000, $f[6] * 1000);
    }
    warn "bench: redis-benchmark: $err$out" unless $r{rps};
    return \%r;
}

sub redis_alive {
    return 1 if ($redis->cmd('PING') // '') eq 'PONG';
    warn "bench: redis-server is not answering\n";
    return 0;
}

# Sum of Redis command calls (INFO itself excluded) and CPU seconds.
sub redis_info {
    my $info = $redis->raw('INFO', 'cpu', 'commandstats');
    my %r = (calls => 0, cpu => 0, by => {});
    while ($info =~ /^cmdstat_([^:]+):calls=(\d+)/mg) {
        next if $1 eq 'info';
        $r{calls} += $2;
        $r{by}{$1} = $2;
    }
    $r{cpu} += $1 while $info =~ /^used_cpu_(?:sys|user):([\d.]+)/mg;
    return \%r;
}

# Commands run between two redis_info() readings: { command => calls }.
sub by_command {
    my ($a, $b) = @_;
    my %d;
    for my $c (keys %{ $b->{by} }) {
        my $n = $b->{by}{$c} - ($a->{by}{$c} // 0);
        $d{$c} = $n if $n;
    }
    return \%d;
}

# /proc/stat per cpu: { cpuN => [user nice system idle iowait irq softirq
# steal] } in clock ticks.
sub cpu_stat {
    my %s;
    for (split /\n/, slurp('/proc/stat')) {
        my ($cpu, @f) = split ' ';
        $s{$cpu} = [@f[0 .. 7]] if $cpu =~ /^cpu\d+$/;
    }
    return \%s;
}

# Steal time of each cpu while the rounds ran, as "cpu0 12%, cpu1 3%".
sub steal {
    my @r;
    for my $cpu (sort keys %$STAT1) {
        my ($s0, $s1) = ($STAT0->{$cpu}, $STAT1->{$cpu});
        next unless $s0;
        my $all = 0;
        $all += $s1->[$_] - $s0->[$_] for 0 .. 7;
        next unless $all > 0;
        push @r, sprintf '%s %.0f%%', $cpu,
                         ($s1->[7] - $s0->[7]) / $all * 100;
    }
    return join ', ', @r;
}

# Share of the worker's core that went to anything but the worker while the
# rounds ran (other processes, interrupts, steal).
sub others_on_worker_core {
    return undef unless defined $CPU_NGX;
    my ($s0, $s1) = ($STAT0->{"cpu$CPU_NGX"}, $STAT1->{"cpu$CPU_NGX"});
    return undef unless $s0 && $s1;
    my ($all, $idle) = (0, 0);
    $all += $s1->[$_] - $s0->[$_] for 0 .. 7;
    $idle += $s1->[$_] - $s0->[$_] for 3, 4;
    return undef unless $all > 0;
    my $tick = 100;                     # USER_HZ
    my $worker = ($WCPU1 - $WCPU0) / 1e9 * $tick;
    my $other = ($all - $idle - $worker) / $all * 100;
    return $other < 0 ? 0 : $other;
}

# CPU time of a process in ns: schedstat (ns), else stat (clock ticks).
sub proc_cpu_ns {
    my ($pid) = @_;
    my $s = slurp("/proc/$pid/schedstat");
    return $1 if $s =~ /^(\d+)/;
    my @f = split ' ', (slurp("/proc/$pid/stat") =~ s/^.*\) //sr);
    return ($f[11] + $f[12]) * 1e9 / 100;
}

###########################################################################
# Instructions per request: one nginx process under callgrind; for each
# case warm up, zero the counters, send a fixed number of requests on one
# keepalive connection, dump.  The difference to off is the module's cost.

sub callgrind {
    my %ir;
    my @cases = grep { !$_->{kind} } @RUN;
    $_->{port} = free_port() for @cases;
    my $d = "$DIR/cg";
    my $cgout = "$d/callgrind.out";
    note("bench: callgrind, $CG_REQS requests per case");
    my $n = start_nginx($d, master => 0, valgrind => $cgout,
                        cases => \@cases);
    my $pid = $n->{pid};
    for my $c (@cases) {
        my @auth = read_tokens($c->{tokens});
        my $warm = @auth + 200;
        my $st = http_run($c->{port}, \@auth, $warm);
        my ($rc) = run_cmd(['callgrind_control', '-z', $pid]);
        $st = http_run($c->{port}, \@auth, $CG_REQS);
        my @before = glob("$cgout.*");
        run_cmd(['callgrind_control', '-d', $pid]);
        my %seen = map { $_ => 1 } @before;
        my ($dump) = grep { !$seen{$_} } glob("$cgout.*");
        my $total;
        if ($dump) {
            my $t = slurp($dump);
            ($total) = $t =~ /^(?:summary|totals):\s*(\d+)/m;
            system("cp", $dump, "$ARTS/callgrind.$c->{name}");
        }
        my $ok = ($st->{ $c->{expect} } // 0) == $CG_REQS;
        $ir{ $c->{name} } = $ok && $total ? $total / $CG_REQS : undef;
        note(sprintf "  %-16s %s", $c->{name},
             defined $ir{ $c->{name} }
                 ? sprintf('%.0f instructions/request', $ir{ $c->{name} })
                 : 'failed: ' . join(', ', map { "$_=$st->{$_}" }
                                           sort keys %$st));
    }
    stop_nginx($n);
    if (my @bad = bad_log_lines($n)) {
        push @BAD_LOG, @bad;
        $check_ok = 0;
    }
    for my $c (@cases) {
        my $f = "$ARTS/callgrind.$c->{name}";
        next unless -f $f && which('callgrind_annotate');
        my $head = "# callgrind, case $c->{name}: $CG_REQS requests on one "
            . "keepalive connection (divide Ir by $CG_REQS for a request)\n";
        my ($rc, $incl) = run_cmd(['callgrind_annotate', '--inclusive=yes',
                                   $f]);
        my ($rc2, $self) = run_cmd(['callgrind_annotate', $f]);
        spew("$ARTS/profile.$c->{name}.txt", "$head\n# inclusive\n$incl"
             . "\n# self\n$self");
    }
    for my $c (@cases) {
        next if $c->{name} eq 'off';
        my $d = profile_diff($c->{name}, 'off') or next;
        spew("$ARTS/profile.$c->{name}-vs-off.txt", $d);
    }
    return %ir;
}

# Instructions per request by function, case minus base, from the two
# callgrind dumps: self cost (where the time goes) and inclusive (which
# call costs it), the largest differences first.
sub profile_diff {
    my ($case, $base) = @_;
    my %cost;
    for my $name ($case, $base) {
        my $f = "$ARTS/callgrind.$name";
        return undef unless -f $f;
        my $self = callgrind_self($f);
        $cost{no}{$_}{$name} = $self->{$_} / $CG_REQS for keys %$self;
        for my $mode ('yes') {
            my ($rc, $out) = run_cmd(['callgrind_annotate', '--threshold=100',
                                      '--auto=no', "--inclusive=$mode", $f]);
            while ($out =~ /^\s*([\d,]+) \([\s\d.]+%\)\s+(\S.*)$/mg) {
                my ($ir, $fn) = ($1, $2);
                next if $fn =~ /PROGRAM TOTALS/;
                # the frames around the event loop hold everything
                next if $fn =~ /\(below main\)|:main \[|_start_main|_cycle \[|:0x0*1ab70 /;
                $ir =~ tr/,//d;
                $fn =~ s{ \[[^\]]*/([^/\]]+)\]$}{ [$1]};
                $fn =~ s{^[^:]*/}{};
                $cost{$mode}{$fn}{$name} += $ir / $CG_REQS;
            }
        }
    }
    my $text = "# instructions per request by function: $case minus $base "
        . "(callgrind, $CG_REQS requests each)\n";
    for my $mode ('no', 'yes') {
        my $h = $cost{$mode};
        my %d = map { $_ => ($h->{$_}{$case} // 0) - ($h->{$_}{$base} // 0) }
                keys %$h;
        my @top = grep { abs $d{$_} >= 20 }
                  sort { abs $d{$b} <=> abs $d{$a} } keys %d;
        splice @top, 40 if @top > 40;
        $text .= "\n# " . ($mode eq 'no' ? 'self' : 'inclusive') . "\n";
        $text .= sprintf "%+9.0f  %9.0f  %s\n", $d{$_},
                         $h->{$_}{$case} // 0, $_ for @top;
    }
    return $text;
}

# Self cost by function from a callgrind dump (callgrind_annotate's own
# self view of a dump taken after a zero puts everything in main): every
# cost line counts for the current function, except the one after calls=,
# which is the inclusive cost of that call.
sub callgrind_self {
    my ($f) = @_;
    my (%name, %obname, %self);
    my ($ob, $fn, $skip) = ('', '?', 0);
    open my $fh, '<', $f or return {};
    while (my $l = <$fh>) {
        if ($l =~ /^ob=\((\d+)\)(?: (.*))?$/) {
            $obname{$1} = $2 if defined $2;
            $ob = $obname{$1} // '?';
        } elsif ($l =~ /^fn=\((\d+)\)(?: (.*))?$/) {
            $name{$1} = $2 if defined $2;
            $fn = $name{$1} // '?';
        } elsif ($l =~ /^cfn=\((\d+)\) (.*)$/) {
            $name{$1} = $2;              # defined here, used later
        } elsif ($l =~ /^cob=\((\d+)\) (.*)$/) {
            $obname{$1} = $2;
        } elsif ($l =~ /^calls=/) {
            $skip = 1;
        } elsif ($l =~ /^[+-]?\d+\s+(\d+)/ || $l =~ /^\*\s+(\d+)/) {
            my $ir = $1;
            if ($skip) { $skip = 0; next; }
            my $o = $ob =~ s{.*/}{}r;
            $self{"$fn [$o]"} += $ir;
        }
    }
    return \%self;
}

###########################################################################
# Zone bytes per cached token: pit_auth_stats' free bytes before and after
# ZONE_TOKENS distinct valid tokens went through a fresh zone.

sub zone_bytes {
    my %r;
    for my $z (['bench_bytes', \@valid, $template],
               ['bench_bytes_wide', \@valid_wide, $wide]) {
        my ($zone, $toks, $rec) = @$z;
        note("bench: zone bytes, $ZONE_TOKENS tokens, zone $zone");
        my $s0 = zone_stats($zone);
        my @auth = map { "Bearer $_" } @$toks[0 .. $ZONE_TOKENS - 1];
        my $st = http_run($ngx->{zone_port}{$zone}, \@auth, scalar @auth);
        my $s1 = zone_stats($zone);
        my $entries = ($s1->{entries} // 0) - ($s0->{entries} // 0);
        my %m = (entries => $entries, size => $s1->{size},
                 record => length $rec,
                 ok => ($st->{200} // 0) == @auth);
        $m{bytes} = ($s0->{free} - $s1->{free}) / $entries
            if $entries > 0 && defined $s0->{free} && $m{ok};
        $check_ok = 0 unless $m{ok};
        note(sprintf '  %d entries, %s bytes each', $entries,
             defined $m{bytes} ? sprintf('%.1f', $m{bytes}) : '?');
        $r{$zone} = \%m;
    }
    return %r;
}

sub zone_stats {
    my ($zone) = @_;
    my $r = PitTest::HTTP::request($STATS_PORT, 'GET /_stats');
    my $d = eval { JSON::PP->new->decode($r->{body}) } // {};
    return $d->{zones}{$zone} // {};
}

###########################################################################
# nginx processes

sub start_nginx {
    my ($d, %o) = @_;
    make_path("$d/logs");
    chmod 0755, $d;
    my @cases = @{ $o{cases} // \@NGX };
    my $servers = '';
    for my $c (@cases) {
        $servers .= <<"END";
    server {   # $c->{name}
        listen 127.0.0.1:$c->{port} backlog=4096;
        location / {
            $c->{conf}
        }
        ${\ ($c->{extra} // '') }
    }
END
    }
    my $zone = '';
    if ($o{master} && $ZONE) {
        for my $z (qw(bench_bytes bench_bytes_wide)) {
            $o{zone_port}{$z} = free_port();
            $zone .= <<"END";
    server {   # zone bytes
        listen 127.0.0.1:$o{zone_port}{$z} backlog=4096;
        $AUTH
        pit_auth_cache zone=$z:64m;
        location / { }
    }
END
        }
        $zone .= <<"END";
    server {
        listen 127.0.0.1:$STATS_PORT;
        location = /_stats { pit_auth_stats; }
    }
END
    }
    my $affinity = $o{master} && defined $CPU_NGX
        ? 'worker_cpu_affinity 1' . ('0' x $CPU_NGX) . ';' : '';
    my $master = $o{master} ? 'on' : 'off';
    spew("$d/nginx.conf", <<"END");
load_module $MODULE;
daemon off;
master_process $master;
worker_processes 1;
$affinity
error_log $d/logs/error.log warn;
pid $d/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    default_type application/json;
    root $DIR/html;
    keepalive_requests 100000000;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    pit_auth_redis 127.0.0.1:${\ $redis->port };
    pit_auth_redis_timeout 1s 2s;
$servers
$zone
}
END
    my @cmd = ($NGINX, '-p', $d, '-e', "$d/logs/stderr.log",
               '-c', "$d/nginx.conf");
    unshift @cmd, 'valgrind', '--tool=callgrind', '-q',
        "--callgrind-out-file=$o{valgrind}", '--dump-instr=no'
        if $o{valgrind};
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>>', "$d/logs/stdout";
        open STDERR, '>&', \*STDOUT;
        { exec @cmd; }
        POSIX::_exit(127);
    }
    push @STARTED, $pid;
    my %n = (%o, pid => $pid, dir => $d);
    for my $c (@cases) {
        PitTest::wait_port($c->{port}, $o{valgrind} ? 60 : 10)
            or die "bench: nginx did not start:\n"
                   . slurp("$d/logs/error.log") . slurp("$d/logs/stdout");
    }
    if ($o{master}) {
        my $end = time + 5;
        ($n{worker}) = children($pid) until $n{worker} || time > $end;
        die "bench: no nginx worker\n" unless $n{worker};
    }
    return \%n;
}

# [alert], [crit], [emerg] lines of an nginx's logs (a worker that died
# on a signal is an [alert]); the log is kept in build/bench/ if any.
sub bad_log_lines {
    my ($n) = @_;
    my $log = join '', map { slurp("$n->{dir}/logs/$_") }
                       qw(error.log stderr.log stdout);
    my @bad = grep { /\[(?:alert|crit|emerg)\]|AddressSanitizer/ }
              split /\n/, $log;
    if (@bad) {
        my $keep = "$ARTS/error.log." . ($n->{master} ? 'nginx' : 'callgrind');
        spew($keep, $log);
        warn sprintf "bench: nginx logged %d alert/crit/emerg line(s), "
            . "first: %s (log kept in %s)\n", scalar @bad, $bad[0], $keep;
    }
    return @bad;
}

sub stop_nginx {
    my ($n) = @_;
    kill 'QUIT', $n->{pid};
    my $end = time + 20;
    while (time < $end) {
        last if waitpid($n->{pid}, WNOHANG) > 0;
        sleep 0.05;
    }
    if (kill 0, $n->{pid}) { kill 'KILL', $n->{pid}; waitpid $n->{pid}, 0; }
    @STARTED = grep { $_ != $n->{pid} } @STARTED;
}

sub stop_all {
    local $?;                      # END: keep the exit code
    for my $pid (@STARTED) {
        kill 'KILL', $pid;
        waitpid $pid, 0;
    }
    @STARTED = ();
    $redis->stop if $redis;
}

sub children {
    my ($ppid) = @_;
    my @kids;
    for my $d (glob '/proc/[0-9]*') {
        my ($pid, $pp) = slurp("$d/stat") =~ /^(\d+) \(.*?\) \S (\d+)/
            or next;
        push @kids, $pid if $pp == $ppid;
    }
    return @kids;
}

# nginx -t on a configuration with the given http-level and server-level
# text: does the built module accept it?
sub probe {
    my ($http, $server) = @_;
    my $d = "$DIR/probe" . int(rand 1e9);
    make_path($d);
    spew("$d/nginx.conf", <<"END");
load_module $MODULE;
error_log $d/error.log;
pid $d/nginx.pid;
events { }
http {
    pit_auth_redis 127.0.0.1:6379;
    $http
    server { listen 127.0.0.1:1; $server }
}
END
    my ($rc) = run_cmd([$NGINX, '-t', '-q', '-p', $d, '-e', "$d/error.log",
                        '-c', "$d/nginx.conf"]);
    return $rc == 0;
}

###########################################################################
# A small keepalive HTTP/1.1 client: count requests, Authorization values
# round-robin; returns { status => count }.

sub http_run {
    my ($port, $auth, $count) = @_;
    my %st;
    my $s;
    my $buf = '';
    for my $i (0 .. $count - 1) {
        $s //= IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                     PeerPort => $port, Proto => 'tcp')
            or die "bench: connect: $!";
        my $a = $auth->[ $i % @$auth ];
        my $req = "GET $PATH HTTP/1.1\r\nHost: bench\r\n"
            . ($a eq '-' ? '' : "Authorization: $a\r\n") . "\r\n";
        syswrite $s, $req;
        my ($status, $len, $hend);
        while (1) {
            if (!defined $hend && (my $p = index($buf, "\r\n\r\n")) >= 0) {
                $hend = $p + 4;
                ($status) = $buf =~ m{^HTTP/1\.1 (\d+)};
                ($len) = substr($buf, 0, $p) =~ /^Content-Length:\s*(\d+)/mi;
                $len //= 0;
            }
            if (defined $hend && length($buf) >= $hend + $len) {
                substr($buf, 0, $hend + $len, '');
                last;
            }
            my $n = sysread $s, $buf, 65536, length $buf;
            if (!$n) { $status = 0; undef $s; $buf = ''; last; }
        }
        $st{$status}++;
    }
    return \%st;
}

###########################################################################
# The table

sub report {
    my %med;
    my $off = $R{off} // [];
    for my $c (@RUN) {
        my $rs = $R{ $c->{name} } or next;
        my %m;
        for my $k (qw(rps p50 p99 cpu busy cmds rcpu)) {
            my @v = grep { defined } map { $_->{$k} } @$rs;
            $m{$k} = median(@v) if @v;
        }
        $m{non2xx} = join '/', map { $_->{non2xx} } @$rs;
        my ($total, %by) = (0);
        for my $r (@$rs) {
            $total += $r->{requests};
            $by{$_} += $r->{by}{$_} for keys %{ $r->{by} // {} };
        }
        $m{gets} = ($by{get} // 0) / ($total || 1);
        $m{by} = join ', ', map { "$by{$_} $_" } sort keys %by;
        $m{requests} = median(map { $_->{requests} } @$rs);
        # ratios per round (neighbours in time), then their median
        if (@$off && !$c->{kind}) {
            $m{x} = median(map { $rs->[$_]{rps} / $off->[$_]{rps} }
                           grep { $off->[$_] } 0 .. $#$rs);
            $m{dcpu} = median(map { $rs->[$_]{cpu} - $off->[$_]{cpu} }
                              grep { $off->[$_] } 0 .. $#$rs);
            # what the ratio would be if the worker's core were all ours
            $m{xcpu} = median(map { $off->[$_]{cpu} / $rs->[$_]{cpu} }
                              grep { $off->[$_] && $rs->[$_]{cpu} }
                              0 .. $#$rs);
        }
        $med{ $c->{name} } = \%m;
    }
    if ($med{miss} && $R{'redis-benchmark'}) {
        my ($m, $b) = ($R{miss}, $R{'redis-benchmark'});
        $med{miss}{xredis} = median(map { $m->[$_]{rps} / $b->[$_]{rps} }
                                    grep { $b->[$_] } 0 .. $#$m);
    }

    my @out;
    my $cmd = reproduce();
    my $cpu_model = (slurp('/proc/cpuinfo') =~ /^model name\s*:\s*(.*)$/m)[0]
        // 'unknown CPU';
    push @out, sprintf '# pit_auth benchmark%s', $SMOKE ? ' (smoke: status '
        . 'codes only, no timing)' : '';
    push @out, '';
    push @out, sprintf '%s; %d core(s) (%s); nginx %s, %s; %s.',
        strftime('%Y-%m-%d %H:%M UTC', gmtime), $NCPU, $cpu_model,
        nginx_version(), redis_version(), git_rev();
    push @out, sprintf '%s; %s; load average at the end: %s.',
        defined $CPU_NGX ? "nginx worker pinned to cpu $CPU_NGX, wrk and "
            . "redis-benchmark to cpu $CPU_WRK, redis to cpu $CPU_REDIS"
            : 'one core: nothing pinned',
        $SMOKE ? "one check of $SECS s per case"
               : "$ROUNDS interleaved rounds of $SECS s per case, medians; "
                 . "wrk -t1 -c$CONNS, redis-benchmark -c$CONNS",
        join(' ', (split ' ', slurp('/proc/loadavg'))[0 .. 2]);
    my $others = others_on_worker_core();
    push @out, 'Hypervisor steal time during the rounds: ' . steal()
        . (defined $others ? sprintf('; cpu%d (the worker\'s) spent %.0f%% '
            . 'on other work', $CPU_NGX, $others) : '') . '; a '
        . 'worker busy below ~95% means it did not have its core to itself '
        . '(or wrk could not keep it busy): throughput then says more about '
        . 'the machine than about the module, and the ratios by worker CPU '
        . 'are the ones to read.' unless $SMOKE;
    push @out, sprintf('**nginx logged %d alert/crit/emerg line(s)** '
        . '(first: `%s`): the run failed.', scalar @BAD_LOG, $BAD_LOG[0])
        if @BAD_LOG;
    push @out, "Reproduce: `$cmd`";
    push @out, '';
    if ($SMOKE) {
        push @out, '| case | status check |', '|---|---|';
        push @out, "| $_->{name} | " . ($_->{skip} ? "n/a: $_->{skip}"
                                                   : $_->{check}) . ' |'
            for @CASES;
        my $text = join("\n", @out) . "\n";
        spew($OUT, $text);
        print "\n$text", "written to $OUT\n";
        return;
    }
    push @out, '| case | req/s | × off | p50 µs | p99 µs | non-2xx/round '
        . '| status check | worker CPU µs/req | Δ CPU vs off µs | × off by '
        . 'CPU | worker busy % | Redis cmds/req | Redis CPU µs/req | '
        . 'instr/req | Δ instr vs off |';
    push @out, '|' . ('---|' x 15);
    for my $c (@CASES) {
        my $m = $med{ $c->{name} };
        if ($c->{skip}) {
            push @out, "| $c->{name} | n/a: $c->{skip} |" . (' |' x 13);
            next;
        }
        my $ir = $IR{ $c->{name} };
        my $dir = defined $ir && defined $IR{off} && $c->{name} ne 'off'
            ? $ir - $IR{off} : undef;
        my $x = $c->{name} eq 'miss' && defined $m->{xredis}
            ? sprintf('%s (%.2f × redis-benchmark)', fmt('%.3f', $m->{x}),
                      $m->{xredis})
            : fmt('%.3f', $m->{x});
        $x = '1' if $c->{name} eq 'off' && $m;
        push @out, join(' | ', '', $c->{name},
            fmt('%.0f', $m->{rps}), $x, fmt('%.0f', $m->{p50}),
            fmt('%.0f', $m->{p99}),
            $c->{kind} ? '—' : ($m->{non2xx} // '—') . " (expect "
                . ($c->{expect} == 200 ? '0' : "all $c->{expect}") . ')',
            ($c->{check} // '—') . ($c->{round_bad}
                ? "; UNEXPECTED in $c->{round_bad} round(s)" : ''),
            fmt('%.2f', $m->{cpu}), fmt('%+.2f', $c->{name} eq 'off'
                                                  ? undef : $m->{dcpu}),
            $c->{name} eq 'off' && $m ? '1' : fmt('%.3f', $m->{xcpu}),
            fmt('%.0f', $m->{busy}),
            fmt('%.3f', $m->{cmds}), fmt('%.2f', $m->{rcpu}),
            fmt('%.0f', $ir), fmt('%+.0f', $dir), '') =~ s/^ //r =~ s/ $//r;
    }
    push @out, '';
    push @out, 'Redis commands during each case (all rounds): '
        . join('; ', map { "$_->{name}: " . ($med{ $_->{name} }{by} || 'none') }
                     grep { $med{ $_->{name} } && !$_->{kind} } @CASES)
        . '.';
    push @out, '';
    if ($ZONE) {
        my ($n, $w) = @ZB{qw(bench_bytes bench_bytes_wide)};
        push @out, defined $n->{bytes} && defined $w->{bytes}
            ? sprintf('Zone bytes per cached token: **%.1f** with the hit '
                . 'token\'s record (%d bytes in Redis: 1 scope), %.1f with '
                . 'a wider one (%d bytes: 10 scopes, a 20-character '
                . 'account); %d and %d entries after %d distinct tokens '
                . 'each, from pit_auth_stats "free" before and after.',
                $n->{bytes}, $n->{record}, $w->{bytes}, $w->{record},
                $n->{entries}, $w->{entries}, $ZONE_TOKENS)
            : 'Zone bytes per cached token: measurement failed.';
    } else {
        push @out, 'Zone bytes per cached token: n/a: '
            . ($SMOKE || !$ZONE_TOKENS ? 'not measured in this mode'
               : 'needs pit_auth_cache and pit_auth_stats, not in this '
                 . 'build') . '.';
    }
    push @out, '';
    push @out, 'Cases:';
    push @out, "- **$_->{name}**: $_->{what}." for @CASES;
    push @out, '';
    push @out, goals(\%med) unless $SMOKE;
    my $text = join("\n", @out) . "\n";
    spew($OUT, $text);
    print "\n$text";
    print "written to $OUT\n";
}

sub goals {
    my ($med) = @_;
    my @g;
    my $h = $med->{hit};
    my $ho = $med->{'hit-openapi'};
    my $mf = $med->{malformed};
    my $mi = $med->{miss};
    my $cg = sub {
        my ($name) = @_;
        return '' unless defined $IR{$name} && defined $IR{off};
        return sprintf ' (callgrind: %+.0f instructions/request vs off)',
            $IR{$name} - $IR{off};
    };
    push @g, 'Goals:';
    push @g, $h
        ? sprintf('- hit ≥ 0.95 × off: %.3f%s, %s; ≤ 0.5 µs more worker '
                  . 'CPU per request: %+.2f µs, %s%s', $h->{x}, bycpu($h),
                  verdict($h->{x} >= 0.95), $h->{dcpu},
                  verdict($h->{dcpu} <= 0.5), $cg->('hit'))
        : '- hit ≥ 0.95 × off, ≤ 0.5 µs more CPU: not measurable (no '
          . 'pit_auth_cache in this build)';
    push @g, $ho
        ? sprintf('- hit-openapi ≥ 0.93 × off: %.3f%s, %s%s', $ho->{x},
                  bycpu($ho), verdict($ho->{x} >= 0.93), $cg->('hit-openapi'))
        : '- hit-openapi ≥ 0.93 × off: not measurable (needs '
          . 'pit_auth_cache and pit_auth_openapi)';
    push @g, sprintf('- malformed ≥ 0.97 × off: %.3f%s, %s; 0 Redis '
                     . 'commands: %s GETs (%s), %s%s', $mf->{x}, bycpu($mf),
                     verdict($mf->{x} >= 0.97), $mf->{gets} ? sprintf('%.4f', $mf->{gets}) . '/request' : 'no',
                     $mf->{by} ? "all commands: $mf->{by}" : 'no command at all',
                     verdict(!$mf->{gets}), $cg->('malformed'))
        if $mf;
    push @g, sprintf('- miss ≥ 0.8 × redis-benchmark: %.3f, %s%s',
                     $mi->{xredis}, verdict($mi->{xredis} >= 0.8),
                     $cg->('miss'))
        if $mi && defined $mi->{xredis};
    my ($zn, $zw) = @ZB{qw(bench_bytes bench_bytes_wide)};
    push @g, $zn && defined $zn->{bytes} && defined $zw->{bytes}
        ? sprintf('- ≤ 256 zone bytes per cached token: %.1f (1 scope), '
                  . '%s; %.1f (10 scopes), %s', $zn->{bytes},
                  verdict($zn->{bytes} <= 256), $zw->{bytes},
                  verdict($zw->{bytes} <= 256))
        : '- ≤ 256 zone bytes per cached token: not measurable (needs '
          . 'pit_auth_cache and pit_auth_stats)';
    return @g;
}

sub verdict { $_[0] ? 'holds' : 'does not hold' }

sub bycpu {
    my ($m) = @_;
    return defined $m->{xcpu} ? sprintf(' (by worker CPU: %.3f)', $m->{xcpu})
                              : '';
}

###########################################################################
# Helpers

sub note { print "$_[0]\n" }

sub spew {
    my ($f, $s) = @_;
    open my $fh, '>', $f or die "bench: $f: $!";
    print $fh $s;
    close $fh;
}

sub which {
    my ($t) = @_;
    for (split /:/, $ENV{PATH} // '/usr/bin:/bin') {
        return "$_/$t" if -x "$_/$t";
    }
    return undef;
}

sub allowed_cpus {
    return () unless which('taskset');
    my $s = `taskset -pc $$ 2>/dev/null`;
    my ($list) = $s =~ /:\s*([\d,\-]+)\s*$/ or return ();
    my @c;
    for (split /,/, $list) {
        my ($a, $b) = split /-/;
        push @c, $a .. ($b // $a);
    }
    return @c;
}

sub median {
    my @v = sort { $a <=> $b } @_;
    return undef unless @v;
    return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

sub fmt {
    my ($f, $v) = @_;
    return defined $v ? sprintf($f, $v) : '—';
}

sub to_us {
    my ($v) = @_;
    return undef unless defined $v;
    my ($n, $u) = $v =~ /^([\d.]+)(\w+)$/ or return undef;
    return $n * ({ us => 1, ms => 1000, s => 1e6 }->{$u} // 1);
}

my %ONCE;
sub state_once { return !$ONCE{ $_[0] }++ }

sub write_tokens {
    my ($name, $list) = @_;
    $TOKFILE{$name} = "$DIR/tokens.$name";
    spew($TOKFILE{$name}, join("\n", @$list) . "\n");
}

sub read_tokens {
    my ($name) = @_;
    return grep { length } split /\n/, slurp($TOKFILE{$name});
}

sub directive_of {
    return { cache => 'pit_auth_cache', openapi => 'pit_auth_openapi',
             stats => 'pit_auth_stats',
             auth_request => 'the auth_request module' }->{ $_[0] } // $_[0];
}

sub nginx_version {
    my (undef, undef, $err) = run_cmd([$NGINX, '-v']);
    return $err =~ m{nginx/([\d.]+)} ? $1 : '?';
}

sub redis_version {
    my ($rc, $out) = run_cmd(['redis-server', '--version']);
    return $out =~ /v=([\d.]+)/ ? "Redis $1" : 'Redis ?';
}

sub git_rev {
    my ($rc, $out) = run_cmd(['git', '-C', $TOP, 'describe', '--always',
                              '--dirty']);
    chomp $out;
    return $rc ? 'not a git checkout' : "commit $out";
}

sub reproduce {
    my @env = map { "$_=" . ($ENV{$_} =~ /^[\w.\/,:=+-]*$/ ? $ENV{$_}
                                 : "'" . ($ENV{$_} =~ s/'/'\\''/gr) . "'") }
              grep { defined $ENV{$_} }
        qw(BENCH_SECONDS BENCH_ROUNDS BENCH_CONNECTIONS
           BENCH_CALLGRIND_REQUESTS BENCH_ZONE_TOKENS BENCH_CASES
           BENCH_MODULE BENCH_OPENAPI);
    return join ' ', @env, $SMOKE ? 'make bench-smoke' : 'make bench';
}

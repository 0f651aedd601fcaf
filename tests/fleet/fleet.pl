#!/usr/bin/perl
# The fleet harness: make fleet (FLEET_SHORT=1: the short run inside
# make test).
#
# Starts on loopback, in temporary directories: 1 Redis primary (AOF on),
# 2 replicas, 3 Sentinels (`sentinel monitor m 127.0.0.1 PORT 2`,
# down-after-milliseconds 1000, failover-timeout 5000, each with its own
# config file, since Sentinel rewrites it) and 3 nginx instances (2 workers
# each, the module with its cache and last-use writes):
#
#   A  reads its own replica by address   pit_auth_redis_read 127.0.0.1:R1
#   B  reads `replica` through Sentinel   pit_auth_redis_read replica
#   C  reads the primary through Sentinel pit_auth_redis_read primary
#
# and pitctl uses redis-sentinel://S1,S2,S3/m.  Then it measures:
#
#   1. revocation fleet-wide: N trials each of pitctl delete, rotate --now
#      and expire-now; time from pitctl's exit until each node refuses the
#      old token (warm cache, keepalive polling); p50/p99/max per node;
#   2. Redis commands naming one token's key for many requests, per node;
#   3. a partitioned replica: A's replica cut off its primary, a token
#      revoked: time until A refuses it (the freshness bound);
#   4. primary failover under steady bounded load (valid, revoked, unknown,
#      malformed tokens): wrong allows, refusals of valid tokens, time until
#      pitctl succeeds, time until last-use writes land, revocation
#      afterwards; then the old primary restarted and made a replica, and
#      the fleet's convergence.
#
# A table goes to stdout and build/fleet.md.  Exit status 1 on any wrong
# verdict: an allow that should be a deny, a node never refusing a revoked
# token within 2 s, more than one GET per token, a partitioned read server
# honoured past its bound, a fleet not converging.
#
# Sentinel support (nginx accepting `pit_auth_redis sentinel=...` and
# `pit_auth_redis_read`; pitctl accepting redis-sentinel://) is detected.
# Without it every node reads by address (A the first replica, B the
# second, C the primary), pitctl uses the primary's address as Sentinel
# reports it, and the rows that need support say "not measured: no
# sentinel support in this build"; with PIT_REQUIRE_FLEET=1 (set by the
# Makefile) missing support fails the run.
#
# Knobs: FLEET_SHORT=1 (15 trials per change instead of 100, shorter
# phases), FLEET_TRIALS, FLEET_MAX_LAG (the freshness bound set in the
# nginx configurations, default 1s), FLEET_LAG_DIRECTIVE (a printf template
# for the bound's directive, e.g. "pit_auth_redis_max_lag %s;", if none of
# the spellings probed is accepted), FLEET_OUT (default build/fleet.md).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Time::HiRes qw(time sleep);
use PitTest;
use PitCache;

$| = 1;
my $SHORT   = $ENV{FLEET_SHORT} ? 1 : 0;
my $TRIALS  = $ENV{FLEET_TRIALS} // ($SHORT ? 15 : 100);
my $MAXLAG  = $ENV{FLEET_MAX_LAG} // '1s';
my $REQUIRE = $ENV{PIT_REQUIRE_FLEET} ? 1 : 0;
my $OUT     = $ENV{FLEET_OUT} // PitTest::top() . '/build/fleet.md';
my $LIMIT   = 2.0;                     # a node must refuse within this
my $GOAL    = 0.100;                   # p99 goal per node
my $dir     = tempdir(CLEANUP => 1);
my @NODES   = qw(A B C);
my %ROLE    = (A => 'replica by address', B => 'replica via Sentinel',
               C => 'primary via Sentinel');
my $NOSUP   = 'not measured: no sentinel support in this build';
my (@rows, @fail, @notes);
my ($EXIT, $REPORTED, $MAIN_PID) = (undef, 0, $$);
my ($primary, @replicas, @sentinels);

sub note { my $m = join '', @_; push @notes, $m; print "# $m\n"; }
sub fail { my $m = join '', @_; push @fail, $m; print "FAIL: $m\n"; }
sub ms   { defined $_[0] ? sprintf('%.1f ms', 1000 * $_[0]) : 'never' }
sub secs { defined $_[0] ? sprintf('%.2f s', $_[0]) : 'never' }
sub lag_secs {
    my ($v) = @_;
    return $1 / 1000 if $v =~ /^(\d+)ms$/;
    return $1 if $v =~ /^(\d+(?:\.\d+)?)s?$/;
    return $1 * 60 if $v =~ /^(\d+)m$/;
    die "FLEET_MAX_LAG: cannot read '$v'\n";
}

###########################################################################
# Sentinel

package Fleet::Sentinel;

use Time::HiRes qw(time sleep);

sub new {
    my ($class, %o) = @_;
    my $self = bless { dir => PitTest::server_dir(), owner => $$,
                       port => PitTest::free_port(), %o }, $class;
    open my $fh, '>', "$self->{dir}/sentinel.conf" or die;
    print $fh <<"END";
port $self->{port}
bind 127.0.0.1
daemonize no
dir $self->{dir}
logfile "$self->{dir}/sentinel.log"
sentinel monitor m 127.0.0.1 $self->{master} 2
sentinel down-after-milliseconds m 1000
sentinel failover-timeout m 5000
sentinel parallel-syncs m 1
END
    close $fh;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$self->{dir}/sentinel.out";
        open STDERR, '>&', \*STDOUT;
        { exec 'redis-server', "$self->{dir}/sentinel.conf", '--sentinel'; }
        POSIX::_exit(127);
    }
    $self->{pid} = $pid;
    PitTest::wait_port($self->{port}, 10) or die "sentinel did not start";
    return $self;
}

sub port { $_[0]{port} }
sub log  { PitTest::slurp("$_[0]{dir}/sentinel.log") }

sub cmd {
    my ($self, @args) = @_;
    my ($rc, $out) = PitTest::run_cmd(['redis-cli', '-p', $self->{port},
                                       '--raw', @args], timeout => 5);
    return split /\n/, $out // '';
}

# The primary this Sentinel names now: its port, or undef.
sub master_port {
    my ($self) = @_;
    my ($host, $port) = $self->cmd('SENTINEL', 'get-master-addr-by-name', 'm');
    return $port;
}

sub master_info {
    my ($self) = @_;
    my %h = $self->cmd('SENTINEL', 'master', 'm');
    return \%h;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

sub DESTROY { local $?; $_[0]->stop if $_[0]{pid} && $$ == $_[0]{owner} }

package main;

###########################################################################
# keepalive HTTP

my %KA;    # node => socket

sub ka_send {
    my ($n, $port, $tok) = @_;
    $KA{$n} ||= IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp',
                                      Timeout => 2);
    return 0 unless $KA{$n};
    my $req = "GET /api/x HTTP/1.1\r\nHost: fleet\r\n"
              . "Authorization: Bearer $tok\r\n\r\n";
    return 1 if (syswrite($KA{$n}, $req) // -1) == length $req;
    delete $KA{$n};
    return 0;
}

sub ka_recv {
    my ($n) = @_;
    my $s = $KA{$n} or return 0;
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $end = time + 3;
    while ($buf !~ /\r\n\r\n/) {
        if (time > $end || !$sel->can_read($end - time)) { delete $KA{$n}; return 0; }
        my $k = sysread $s, $buf, 16384, length $buf;
        if (!$k) { delete $KA{$n}; return 0; }
    }
    my ($st) = $buf =~ m{^HTTP/1\.1 (\d+)} or do { delete $KA{$n}; return 0 };
    my ($len) = $buf =~ /\r\nContent-Length: (\d+)/i;
    my $have = length($buf) - (index($buf, "\r\n\r\n") + 4);
    while (defined $len && $have < $len) {
        my $k = sysread $s, $buf, 16384, length $buf;
        if (!$k) { delete $KA{$n}; return $st; }
        $have += $k;
    }
    delete $KA{$n} if $buf =~ /\r\nConnection: close/i;
    return $st;
}

my %NGX;   # node => PitTest::Nginx

sub ka_get { my ($n, $tok) = @_;
             ka_send($n, $NGX{$n}->port, $tok) or return 0; return ka_recv($n); }

# Polls every node in @$nodes with $tok (all at once, keepalive, no sleep)
# until each answers something other than 200; returns { node => seconds
# from $t0 to that answer } (undef: still 200 after $limit), and the status.
sub poll_refusal {
    my ($nodes, $tok, $t0, $limit) = @_;
    my (%got, %st);
    my @left = @$nodes;
    while (@left) {
        my @sent = grep { ka_send($_, $NGX{$_}->port, $tok) } @left;
        for my $n (@sent) {
            my $s = ka_recv($n);
            my $now = time;
            if ($s && $s != 200) { $got{$n} = $now - $t0; $st{$n} = $s; }
        }
        @left = grep { !exists $got{$_} } @left;
        last if time - $t0 > $limit;
    }
    $got{$_} //= undef for @$nodes;
    return (\%got, \%st);
}

# Waits until every node answers 200 for $tok (replication may lag a
# little); returns the nodes that never did within $limit.
sub warm {
    my ($nodes, $tok, $limit) = @_;
    my $end = time + ($limit // 2);
    my %ok;
    while (time < $end) {
        for my $n (@$nodes) { $ok{$n} ||= (ka_get($n, $tok) == 200); }
        last unless grep { !$ok{$_} } @$nodes;
        sleep 0.005;
    }
    return grep { !$ok{$_} } @$nodes;
}

###########################################################################
# the fleet

$primary = PitTest::Redis->new(extra => ['--appendonly', 'yes',
                                            '--appendfsync', 'everysec']);
my $P0 = $primary->port;
@replicas = map { PitTest::Redis->new(extra => ['--replicaof', '127.0.0.1', $P0]) } 1 .. 2;
my %BY_PORT = ($P0 => $primary, map { ($_->port => $_) } @replicas);
my %NAME_OF = ($P0 => 'P (first primary)', $replicas[0]->port => 'R1 (A\'s replica)',
               $replicas[1]->port => 'R2');
for my $r (@replicas) {
    my $end = time + 10;
    sleep 0.05 until $r->raw('INFO', 'replication') =~ /master_link_status:up/
                     || time > $end;
}
@sentinels = map { Fleet::Sentinel->new(master => $P0) } 1 .. 3;
my $SADDRS = join ' ', map { '127.0.0.1:' . $_->port } @sentinels;
my $SURL   = 'redis-sentinel://' . join(',', map { '127.0.0.1:' . $_->port } @sentinels) . '/m';

# Sentinels know each other and both replicas before anything depends on it.
{
    my $end = time + 30;
    while (1) {
        my @i = map { $_->master_info } @sentinels;
        last unless grep { ($_->{'num-other-sentinels'} // 0) < 2
                           || ($_->{'num-slaves'} // 0) < 2 } @i;
        die "sentinels did not discover each other and the replicas\n" if time > $end;
        sleep 0.2;
    }
}
note(sprintf 'primary :%d (AOF), replicas :%d :%d, sentinels %s', $P0,
     (map { $_->port } @replicas), $SADDRS);

sub current_master_port {
    for my $s (@sentinels) { my $p = $s->master_port; return $p if $p; }
    return undef;
}

# --- what this build supports ----------------------------------------------

my $LAGS = lag_secs($MAXLAG);
my %SUP;
sub nginx_accepts {
    my ($http) = @_;
    my $ng = PitTest::Nginx->new(no_start => 1, http => $http);
    my ($rc, $out, $err) = $ng->test_conf;
    return ($rc == 0, $err);
}
sub probe_http {
    my ($read, $extra) = @_;
    $extra //= '';
    return <<"END";
    pit_auth_redis sentinel=m $SADDRS;
    pit_auth_redis_read $read;
$extra
    pit_auth_cache zone=probe:1m;
    server {
        listen 127.0.0.1:%%PORT%%;
        location / { pit_auth on; empty_gif; }
    }
END
}
{
    my $r1 = $replicas[0]->port;
    my @why;
    $SUP{nginx} = 1;
    for my $read ('replica', 'primary', "127.0.0.1:$r1") {
        my ($ok, $err) = nginx_accepts(probe_http($read));
        next if $ok;
        $SUP{nginx} = 0;
        push @why, (grep { /emerg/ } split /\n/, $err)[0] // $err;
    }
    note('nginx: ' . ($SUP{nginx} ? 'accepts sentinel= and pit_auth_redis_read'
                      : "no sentinel support (nginx -t: $why[0])"));
    if ($SUP{nginx}) {
        my @cands = $ENV{FLEET_LAG_DIRECTIVE} ? ([$ENV{FLEET_LAG_DIRECTIVE}, 0])
                  : (['pit_auth_redis_max_lag %s;', 0],
                     ['pit_auth_redis_read_max_lag %s;', 0],
                     ['pit_auth_redis_freshness %s;', 0],
                     [' max_lag=%s', 1], [' freshness=%s', 1]);
        for my $c (@cands) {
            my ($tmpl, $param) = @$c;
            my $txt = sprintf $tmpl, $MAXLAG;
            my ($ok) = $param ? nginx_accepts(probe_http("replica$txt"))
                              : nginx_accepts(probe_http('replica', "    $txt"));
            if ($ok) { $SUP{lag} = [$txt, $param]; last; }
        }
        note('freshness bound: ' . ($SUP{lag} ? "'$SUP{lag}[0]' accepted, bound $MAXLAG"
             : 'no spelling accepted (set FLEET_LAG_DIRECTIVE); the module default applies'));
    }
    my ($rc, $out, $err) = PitTest::Pitctl::run($SURL, 'list', { timeout => 20 });
    $SUP{pitctl} = $rc == 0;
    chomp $err;
    note('pitctl: ' . ($SUP{pitctl} ? 'accepts redis-sentinel://'
                       : "no sentinel support (rc $rc: $err)"));
}
my $FULL = $SUP{nginx} && $SUP{pitctl};
%ROLE = (A => 'R1 by address', B => 'R2 by address', C => 'first primary by address')
    unless $SUP{nginx};

sub pitctl_url {
    return $SURL if $SUP{pitctl};
    my $p = current_master_port() // $P0;
    return "redis://127.0.0.1:$p";
}
sub pitctl { my @a = @_; return PitTest::Pitctl::run(pitctl_url(), @a, { timeout => 30 }); }
sub create {
    my ($name) = @_;
    my ($rc, $out, $err) = pitctl('--json', 'create', '--name', $name,
                                  '--account', 'acct1', '--scope', 'contacts.readonly');
    die "pitctl create failed ($rc): $err" if $rc;
    my ($id) = $out =~ /"id"\s*:\s*"([^"]+)"/;
    my ($tok) = $out =~ /"token"\s*:\s*"([^"]+)"/;
    return ($id, $tok);
}

# --- the nginx nodes ------------------------------------------------------

my %READ = (A => '127.0.0.1:' . $replicas[0]->port, B => 'replica', C => 'primary');
my %FALLBACK = (A => $replicas[0]->port, B => $replicas[1]->port, C => $P0);
for my $n (@NODES) {
    my $store;
    if ($SUP{nginx}) {
        my ($lag, $param) = $SUP{lag} ? @{ $SUP{lag} } : ('', 0);
        $store = "    pit_auth_redis sentinel=m $SADDRS;\n"
               . "    pit_auth_redis_read $READ{$n}" . ($param ? $lag : '') . ";\n"
               . ($param ? '' : "    $lag\n");
    } else {
        $store = "    pit_auth_redis 127.0.0.1:$FALLBACK{$n};\n";
    }
    $NGX{$n} = PitTest::Nginx->new(workers => 2, http => <<"END");
$store
    pit_auth_redis_timeout 100ms 300ms;
    pit_auth_cache zone=fleet$n:10m ttl=60s negative_ttl=5s stale=30s;
    server {
        listen 127.0.0.1:%%PORT%% backlog=1024;
        location /api/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
            pit_auth_last_used on interval=1s;
            empty_gif;
        }
        location = /stats { pit_auth_stats; }
    }
END
    note("node $n: nginx :" . $NGX{$n}->port . ', ' . ($SUP{nginx}
         ? "pit_auth_redis_read $READ{$n}"
         : "fallback: pit_auth_redis 127.0.0.1:$FALLBACK{$n} ($NAME_OF{$FALLBACK{$n}})"));
}
my $MODE = $FULL ? 'sentinel support'
                 : 'fallback: nodes by address, pitctl by the primary\'s address';

sub stats_line {
    my ($n) = @_;
    my $r = PitTest::HTTP::request($NGX{$n}->port, 'GET /stats');
    my $b = $r->{body} // '';
    $b =~ s/\s+//g;
    return length $b > 400 ? substr($b, 0, 400) . '...' : $b;
}
sub wait_subscribers {
    my $end = time + 10;
    while (time < $end) {
        return 1 unless grep { stats_line($_) !~ /"subscriber":"up"/ } @NODES;
        sleep 0.1;
    }
    note('subscriber not up on every node after 10 s');
    return 0;
}
wait_subscribers();

sub row {
    my ($what, $cells, $verdict, $mode) = @_;
    push @rows, [$what, (map { $cells->{$_} // '—' } @NODES), $verdict, $mode // $MODE];
    printf "%-44s | %s | %s\n", $what, join(' | ', map { $cells->{$_} // '—' } @NODES), $verdict;
}

###########################################################################
# 1. revocation fleet-wide

sub revocation_trials {
    my ($label, $n, $kinds, $nodes) = @_;
    $nodes //= \@NODES;
    my (%t, %worst);
    for my $i (1 .. $n) {
        my $kind = $kinds->[($i - 1) % @$kinds];
        my ($id, $tok) = create("fleet-$label-$i-$$-" . int rand 1e9);
        if ($kind eq 'expire-now') {
            my ($rc, $out, $err) = pitctl('rotate', $id, '--later');
            die "rotate --later: $err" if $rc;
        }
        if (my @cold = warm($nodes, $tok, 2)) {
            fail("$label/$kind trial $i: valid token refused by @cold for 2 s");
            next;
        }
        my @args = $kind eq 'delete' ? ('delete', $id)
                 : $kind eq 'rotate --now' ? ('rotate', $id, '--now')
                 : ('expire-now', $id);
        my ($rc, $out, $err) = pitctl(@args);
        die "pitctl @args failed ($rc): $err" if $rc;
        my $t0 = time;
        my ($got) = poll_refusal($nodes, $tok, $t0, $LIMIT);
        for my $nd (@$nodes) {
            if (!defined $got->{$nd}) {
                fail("$label/$kind trial $i: node $nd still allows the revoked token "
                     . "${LIMIT} s after pitctl returned");
                $got->{$nd} = $LIMIT;
            }
            push @{ $t{$kind}{$nd} }, $got->{$nd};
        }
    }
    return \%t;
}

sub rev_rows {
    my ($label, $t, $mode, $skip) = @_;
    for my $kind (sort keys %$t) {
        my (%cell, @miss);
        for my $nd (@NODES) {
            if ($skip && $skip->{$nd}) { $cell{$nd} = $skip->{$nd}; next; }
            my @v = @{ $t->{$kind}{$nd} // [] };
            if (!@v) { $cell{$nd} = 'no trial completed'; push @miss, $nd; next; }
            my $p99 = PitCache::percentile(99, @v);
            $cell{$nd} = sprintf '%s / %s / %s', map { sprintf '%.1f', 1000 * $_ }
                PitCache::percentile(50, @v), $p99, (sort { $b <=> $a } @v)[0];
            push @miss, $nd if $p99 >= $GOAL;
        }
        my ($n) = map { scalar @{ $t->{$kind}{$_} // [] } } grep { !($skip && $skip->{$_}) } @NODES;
        row("$label `$kind` ($n trials), p50 / p99 / max ms", \%cell,
            @miss ? "goal missed (p99 ≥ 100 ms on @miss)" : 'ok (p99 < 100 ms everywhere)',
            $mode);
    }
}

print "\n== revocation fleet-wide ($TRIALS trials per change)\n";
my $rev = revocation_trials('rev', 3 * $TRIALS, ['delete', 'rotate --now', 'expire-now']);
rev_rows('revocation', $rev);

###########################################################################
# 2. Redis commands per node for N requests with one token

print "\n== Redis commands per token\n";
{
    my $N = $SHORT ? 300 : 2000;
    my %cell;
    my $bad = 0;
    for my $nd (@NODES) {
        my ($id, $tok) = create("fleet-cmds-$nd-$$");
        # on every server before counting: the count is of the node's GETs
        my $key = PitTest::Pitctl::token_key($tok);
        my $end = time + 5;
        sleep 0.01 while grep({ !$_->raw('EXISTS', $key) } @replicas) && time < $end;
        my @mon = map { monitor_start($_->port, "$dir/monitor.$nd." . $_->port) }
                      $primary, @replicas;
        my $gets0 = 0;
        $gets0 += PitCache::calls($_, 'get') for $primary, @replicas;
        my $ok = 0;
        $ok += ka_get($nd, $tok) == 200 for 1 .. $N;
        sleep 0.2;
        my $gets1 = 0;
        $gets1 += PitCache::calls($_, 'get') for $primary, @replicas;
        kill 'TERM', $_->[0] for @mon;
        waitpid $_->[0], 0 for @mon;
        my ($gets, $other) = (0, 0);
        for my $m (@mon) {
            for (split /\n/, PitTest::slurp($m->[1])) {
                next unless index($_, $key) >= 0;
                /"GET"/i ? $gets++ : $other++;
            }
        }
        $cell{$nd} = "$gets GET for $N requests ($ok × 200; GETs of any key on the 3 servers: "
                     . ($gets1 - $gets0) . ')';
        $bad++, fail("node $nd: $gets GETs of one token for $N requests")
            if $gets > 2 || $gets < 1;
        fail("node $nd: only $ok of $N requests with a valid token answered 200")
            if $ok != $N;
    }
    row('Redis commands naming the token key (MONITOR on all 3 servers)', \%cell,
        $bad ? 'FAIL' : 'ok (1 GET per token, not per request)');
}

# MONITOR on one server into a file, line by line (redis-cli would buffer
# its output and lose it when stopped); returns [pid, file] once running.
sub monitor_start {
    my ($port, $file) = @_;
    my $pid = fork // die;
    if ($pid == 0) {
        open my $out, '>', $file or POSIX::_exit(1);
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                      Proto => 'tcp') or POSIX::_exit(1);
        syswrite $s, "MONITOR\r\n";
        while (1) {
            my $k = sysread $s, my $buf, 65536;
            POSIX::_exit(0) unless $k;
            syswrite $out, $buf;
        }
    }
    my $end = time + 3;
    sleep 0.01 until -s $file || time > $end;
    die "MONITOR on :$port did not start\n" unless -s $file;
    return [$pid, $file];
}

###########################################################################
# 3. partitioned replica

print "\n== partitioned replica (A's read server cut off its primary)\n";
{
    my $r1 = $replicas[0];
    my ($id, $tok) = create("fleet-part-$$");
    my @cold = warm(['A'], $tok, 2);
    my $dead = PitTest::free_port();
    $r1->cmd('REPLICAOF', '127.0.0.1', $dead);
    my $tcut = time;
    my ($rc, $out, $err) = pitctl('delete', $id);
    die "pitctl delete: $err" if $rc;
    my $t0 = time;
    my $limit = $LAGS * 3 > 3 ? $LAGS * 3 : 3;
    # B and C do not read R1: they refuse as usual
    my ($got, $st) = poll_refusal(\@NODES, $tok, $t0, $limit);
    my $t = $got->{A};
    my $gbc = $got;
    my %cell = (A => defined $t ? sprintf('refused after %s (%s; bound %s)', ms($t), $st->{A}, $MAXLAG)
                                : sprintf('still allowed after %.1f s', $limit),
                B => ms($gbc->{B}), C => ms($gbc->{C}));
    my $verdict;
    if (!$SUP{nginx}) {
        $verdict = "$NOSUP (no freshness bound: "
                   . (defined $t ? 'refused' : 'the partitioned replica is honoured') . ')';
    } elsif (!defined $t || $t > $LAGS + 0.5) {
        $verdict = 'FAIL';
        fail('partitioned replica: node A honoured a revoked token '
             . (defined $t ? sprintf('for %s', ms($t)) : "for more than $limit s")
             . " (bound $MAXLAG + 0.5 s)");
    } else {
        $verdict = $SUP{lag} ? "ok (within $MAXLAG + 0.5 s)"
                             : 'ok (module default bound; the directive spelling was not found)';
    }
    row("partitioned replica: revoked token refused after", \%cell, $verdict);
    # heal
    $r1->cmd('REPLICAOF', '127.0.0.1', current_master_port() // $P0);
    my $end = time + 15;
    sleep 0.05 until $r1->raw('INFO', 'replication') =~ /master_link_status:up/ || time > $end;
    note(sprintf 'partition healed: R1 link up %.2f s after the cut', time - $tcut);
    my ($g2) = poll_refusal(['A'], $tok, time, $LIMIT);
    fail('after the partition healed node A still allows the revoked token')
        unless defined $g2->{A};
}

###########################################################################
# 4. primary failover under load

print "\n== primary failover under load\n";
my (%VALID, %VID);
for my $nd (@NODES) { ($VID{$nd}, $VALID{$nd}) = create("fleet-valid-$nd-$$"); }
my ($rid, $REVOKED) = create("fleet-revoked-$$");
warm(\@NODES, $REVOKED, 2);
pitctl('delete', $rid);
my $MALFORMED = 'pit-not-a-token';
for my $nd (@NODES) {
    my @c = warm([$nd], $VALID{$nd}, 3);
    fail("node $nd never accepted its valid token") if @c;
}
poll_refusal(\@NODES, $REVOKED, time, $LIMIT);

my $CLIENTS = 2;            # per node
my $RATE    = 150;          # requests/s per client
my $WATCH   = $SHORT ? 14 : 25;

sub client {
    my ($nd, $k, $until) = @_;
    srand($$ ^ time);
    open my $out, '>', "$dir/load.$nd.$k" or die;
    my $next = time;
    my $i = 0;
    my $port = $NGX{$nd}->port;
    my $key = "$nd$k";
    while (time < $until) {
        my $r = $i++ % 8;
        my ($kind, $tok) = $r < 4 ? ('valid', $VALID{$nd})
                         : $r < 5 ? ('revoked', $REVOKED)
                         : $r < 7 ? ('unknown', PitCache::random_token())
                         : ('malformed', $MALFORMED);
        my $t0 = time;
        my $st = ka_send($key, $port, $tok) ? ka_recv($key) : 0;
        printf $out "%.4f %s %d\n", $t0, $kind, $st;
        $next += 1 / $RATE;
        my $d = $next - time;
        sleep $d if $d > 0;
        $next = time if $d < -0.5;
    }
    close $out;
    POSIX::_exit(0);
}

my $load_until = time + 2 + $WATCH;
my @kids;
for my $nd (@NODES) {
    for my $k (1 .. $CLIENTS) {
        my $pid = fork // die;
        client($nd, $k, $load_until) if $pid == 0;
        push @kids, $pid;
    }
}
sleep 2;

# last use before the kill, per node
my %used0;
for my $nd (@NODES) {
    $used0{$nd} = $primary->raw('HGET', "pit:used:$VID{$nd}",
                                PitTest::Pitctl::token_hash($VALID{$nd})) || 0;
}
note('last use seen on the primary before the kill: '
     . join(', ', map { "$_ " . ($used0{$_} ? 'yes' : 'NO') } @NODES));

my $tkill = time;
my $kill_ms = int($tkill * 1000);
$primary->stop('KILL');
print "primary SIGKILLed\n";

# pitctl with the same URL, in a loop, in a child (a call may wait itself)
my $pit_file = "$dir/pitctl.after";
my $pit_pid = fork // die;
if ($pit_pid == 0) {
    my $n = 0;
    while (time < $tkill + $WATCH + 10) {
        my ($rc) = pitctl('edit', $VID{A}, '--description', 'after failover ' . ++$n);
        if ($rc == 0) {
            open my $fh, '>', $pit_file; printf $fh "%.4f %d\n", time, $n; close $fh;
            POSIX::_exit(0);
        }
        sleep 0.05;
    }
    POSIX::_exit(1);
}

my ($t_newmaster, $newport, %t_used);
while (time < $tkill + $WATCH) {
    my $p = current_master_port();
    if ($p && $p != $P0 && !$t_newmaster) {
        $t_newmaster = time - $tkill; $newport = $p;
        print "Sentinel names :$p ($NAME_OF{$p}) after ", secs($t_newmaster), "\n";
    }
    if ($newport) {
        for my $nd (grep { !$t_used{$_} } @NODES) {
            my $v = $BY_PORT{$newport}->raw('HGET', "pit:used:$VID{$nd}",
                                              PitTest::Pitctl::token_hash($VALID{$nd})) || 0;
            $t_used{$nd} = time - $tkill if $v && $v > $kill_ms;
        }
    }
    last if $newport && !grep { !$t_used{$_} } @NODES;
    sleep 0.1;
}
waitpid $_, 0 for @kids;
my $pit_ok = waitpid($pit_pid, 0) && $? == 0;
my ($t_pit) = split ' ', PitTest::slurp($pit_file);

# the load, judged
{
    my (%wrong, %total, %vref, %vfirst, %vlast, %verr);
    for my $nd (@NODES) {
        for my $f (glob "$dir/load.$nd.*") {
            for (split /\n/, PitTest::slurp($f)) {
                my ($t, $kind, $st) = split ' ';
                $total{$nd}++;
                if ($kind ne 'valid') { $wrong{$nd}++ if $st == 200; next; }
                next if $st == 200;
                $st ? $vref{$nd}++ : $verr{$nd}++;
                my $rel = $t - $tkill;
                $vfirst{$nd} = $rel if !defined $vfirst{$nd} || $rel < $vfirst{$nd};
                $vlast{$nd} = $rel if !defined $vlast{$nd} || $rel > $vlast{$nd};
            }
        }
    }
    my %cell = map { ($_ => sprintf '%d of %d requests', $wrong{$_} // 0, $total{$_} // 0) } @NODES;
    my $w = grep { $wrong{$_} } @NODES;
    fail("failover: $wrong{$_} wrong allows on node $_") for grep { $wrong{$_} } @NODES;
    row('failover: wrong allows (revoked/unknown/malformed → 200)', \%cell, $w ? 'FAIL' : 'ok (0)');
    %cell = map {
        my $n = ($vref{$_} // 0) + ($verr{$_} // 0);
        ($_ => $n ? sprintf('%d refused (%d conn. errors), %.2f→%.2f s after the kill (%.2f s)',
                            $n, $verr{$_} // 0, $vfirst{$_}, $vlast{$_}, $vlast{$_} - $vfirst{$_})
                  : '0')
    } @NODES;
    my @ab = grep { ($vref{$_} // 0) + ($verr{$_} // 0) } qw(A B);
    row('failover: refusals of valid tokens (goal 0 on A, B)', \%cell,
        @ab ? "goal missed on @ab" : 'ok (0 on A and B; C: window shown)');
}
row('failover: Sentinel names a new primary after',
    { A => secs($t_newmaster) . ($newport ? " (:$newport, $NAME_OF{$newport})" : '') },
    $newport ? 'ok' : 'FAIL', 'Sentinel');
fail('failover: no new primary within the watch') unless $newport;
row('failover: pitctl with the same URL succeeds after',
    { A => ($t_pit ? secs($t_pit - $tkill) : 'never') . ($SUP{pitctl} ? " ($SURL)" : ' (address from Sentinel)') },
    $SUP{pitctl} ? ($t_pit ? 'ok' : 'FAIL') : "$NOSUP (pitctl by the new primary's address)");
fail('failover: pitctl never succeeded') if $SUP{pitctl} && !$t_pit;
row('failover: last-use writes land on the new primary after',
    { map { ($_ => secs($t_used{$_})) } @NODES },
    $FULL ? (grep({ !$t_used{$_} } @NODES) ? 'goal missed on ' . join(' ', grep { !$t_used{$_} } @NODES) : 'ok')
          : "$NOSUP (by address: a node whose server is a replica writes nowhere)");
note("stats after failover, $_: " . stats_line($_)) for @NODES;

# revocation after the failover
print "\n== revocation after the failover\n";
{
    my $n = $SHORT ? 5 : 30;
    my @live = @NODES;
    my %skip;
    if (!$SUP{nginx}) {
        # by address, the node that read the killed primary has no server
        # until that process is back (section 5)
        @live = grep { $FALLBACK{$_} != $P0 } @NODES;
        $skip{$_} = "$NOSUP (reads the killed primary by address)"
            for grep { $FALLBACK{$_} == $P0 } @NODES;
    }
    my $t = revocation_trials('after', 3 * $n, ['delete', 'rotate --now', 'expire-now'], \@live);
    # one row for the three changes together
    my %all;
    for my $k (keys %$t) { push @{ $all{$_} }, @{ $t->{$k}{$_} // [] } for @live; }
    rev_rows('after failover: revocation', { 'all three changes' => \%all }, undef, \%skip);
}

###########################################################################
# 5. the old primary back, made a replica; the fleet converges

print "\n== old primary restarted\n";
{
    my $t0 = time;
    $primary->start;
    my $end = time + 45;
    my $role = '';
    while (time < $end) {
        my $info = $primary->raw('INFO', 'replication');
        if ($info =~ /role:slave/ && $info =~ /master_link_status:up/) { $role = 'replica'; last; }
        sleep 0.2;
    }
    my $tr = time - $t0;
    row('old primary restarted: Sentinel makes it a replica after',
        { A => $role ? secs($tr) : 'never (45 s)' }, $role ? 'ok' : 'FAIL', 'Sentinel');
    fail('old primary not made a replica within 45 s') unless $role;

    wait_subscribers();
    my ($id, $tok) = create("fleet-converge-$$");
    my @cold = warm(\@NODES, $tok, 3);
    my ($rc, $out, $err) = pitctl('delete', $id);
    my $td = time;
    my ($got) = poll_refusal(\@NODES, $tok, $td, $LIMIT);
    my %cell;
    for my $nd (@NODES) {
        my $c = (grep { $_ eq $nd } @cold) ? 'new token NOT accepted' : 'new token 200';
        $cell{$nd} = "$c, revocation " . ms($got->{$nd});
    }
    my @bad = (@cold, grep { !defined $got->{$_} } @NODES);
    fail("fleet did not converge: @bad") if @bad || $rc;
    row('convergence: a new token, then its revocation', \%cell,
        @bad ? 'FAIL' : 'ok', $MODE);
}

###########################################################################
# report

report();
$EXIT = @fail ? 1 : 0;
exit $EXIT;

sub report {
    return if $REPORTED++;
my @bad_logs = map { my $n = $_; map { "$n: $_" } $NGX{$n}->bad_log_lines } @NODES;
if (@bad_logs) {
    fail(scalar(@bad_logs) . ' [alert]/[crit]/[emerg] lines, first: ' . $bad_logs[0]);
}
if ($REQUIRE && !$FULL) {
    fail('PIT_REQUIRE_FLEET=1 and this build lacks sentinel support ('
         . join(', ', ($SUP{nginx} ? () : 'nginx'), ($SUP{pitctl} ? () : 'pitctl')) . ')');
}

my $cpu = (grep { /^model name/ } split /\n/, PitTest::slurp('/proc/cpuinfo'))[0] // '';
$cpu =~ s/^model name\s*:\s*//;
my $ncpu = () = PitTest::slurp('/proc/cpuinfo') =~ /^processor/mg;
my $md = "# Fleet run\n\n"
    . sprintf("%s run, %s, %d trials per change; %s, %d cores; Redis %s; nginx %s.\n\n",
              $SHORT ? 'Short' : 'Full', scalar(localtime), $TRIALS, $cpu, $ncpu,
              ((`redis-server --version` =~ /v=(\S+)/)[0] // '?'),
              ((`nginx -v 2>&1` =~ m{nginx/(\S+)})[0] // '?'))
    . "Support: nginx " . ($SUP{nginx} ? 'yes' : 'no') . ', pitctl '
    . ($SUP{pitctl} ? 'yes' : 'no') . ', freshness bound '
    . ($SUP{lag} ? "`$SUP{lag}[0]`" : 'not set') . ".\n\n"
    . "| Measurement | A ($ROLE{A}) | B ($ROLE{B}) | C ($ROLE{C}) | Verdict | Measured with |\n"
    . "|---|---|---|---|---|---|\n"
    . join('', map { '| ' . join(' | ', @$_) . " |\n" } @rows)
    . "\nNotes:\n\n" . join('', map { "- $_\n" } @notes)
    . (@fail ? "\nFailures:\n\n" . join('', map { "- $_\n" } @fail) : "\nNo wrong verdict.\n");
if (open my $fh, '>', $OUT) { print $fh $md; close $fh; }
print "\n$md\n(written to $OUT)\n";
}

# Stops every server here, so that no DESTROY's waitpid later changes the
# exit status, and reports even when the harness itself died.
END {
    if ($$ == $MAIN_PID) {
        my $code = defined $EXIT ? $EXIT : ($? || 1);
        if (!$REPORTED) { fail('harness error (see above)'); report(); }
        $_->stop for values %NGX;
        $_->stop for @sentinels;
        $_->stop for grep { defined } $primary, @replicas;
        $? = $code;
    }
}

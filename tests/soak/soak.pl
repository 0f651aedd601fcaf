#!/usr/bin/perl
# Soak with an oracle: make soak (SOAK_SECONDS, default 300; make test runs
# 30 s).
#
# A real redis-server and a real nginx (2 workers, the module with its
# cache and last-use writes) on loopback.  Forked keepalive clients send
# requests at about 70% of the peak they measured first, 30% of them with a
# malformed or unknown token; meanwhile a driver changes one of 20
# integrations every 100 ms through pitctl (rotate later, expire now,
# cancel rotation, rotate now, delete and create again) and logs when each
# token became valid or invalid.  Afterwards every answer is checked
# against what its token's state allowed when it was sent: valid 200,
# revoked or unknown 401, malformed 400/401, with either of 200/401 allowed
# only within the documented revocation window (WINDOW, 1 s: the cache's
# bound when its invalidation subscriber is down) of a change.
#
# Reports and checks: requests, mismatches (0), worker RSS growth after
# warm-up (< 1%), Redis commands naming a malformed token (0, from
# MONITOR), [alert]/[crit] lines (0).  Exit status 0 only if all hold.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use Digest::SHA qw(sha256_hex);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX ();
use Time::HiRes qw(time sleep);
use PitTest;
use PitModule;

$| = 1;
my $SECS    = $ENV{SOAK_SECONDS} // $ARGV[0] // 300;
my $CLIENTS = $ENV{SOAK_CLIENTS} // 3;
my $SLOTS   = 20;
my $WINDOW  = 1.0;
my $dir = tempdir(CLEANUP => 1);

my $t = PitModule->new(workers => 2, timeout => '200ms 500ms',
                       http => '    pit_auth_cache zone=soak:4m;',
                       server => <<'END');
        location /api/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
            pit_auth_last_used on interval=1s;
            empty_gif;
        }
END
my $redis = $t->redis;
my $port = $t->port;

# --- tokens and their history ----------------------------------------------

open my $ev, '>', "$dir/events" or die;      # t_start t_end token valid
$ev->autoflush(1);
open my $tf, '>', "$dir/tokens" or die;      # token (append-only)
$tf->autoflush(1);

my @slot;     # { id, primary, next, prev }
sub pitctl_json {
    my (@args) = @_;
    my $t0 = time;
    my ($rc, $data, $out, $err) = PitTest::Pitctl::json($redis, @args);
    return ($rc, $data, $t0, time);
}
sub issued {
    my ($tok, $t0, $t1) = @_;
    print $ev "$t0 $t1 $tok 1\n";
    print $tf "$tok\n";
}
sub revoked { my ($tok, $t0, $t1) = @_; print $ev "$t0 $t1 $tok 0\n"; }

sub create_slot {
    my ($i) = @_;
    my ($rc, $d, $t0, $t1) = pitctl_json('create', '--name', "soak-$i-"
        . int(rand 1e9), '--account', 'acct' . ($i % 3), '--scope',
        'contacts.readonly');
    die "create: rc $rc" if $rc;
    $slot[$i] = { id => $d->{id}, primary => $d->{token} };
    issued($d->{token}, $t0, $t1);
}
create_slot($_) for 0 .. $SLOTS - 1;

my %ops_done;
sub change_one {
    my $i = int rand $SLOTS;
    my $s = $slot[$i];
    my @ops = $s->{next} ? qw(expire-now cancel-rotation rotate-now delete)
                         : qw(rotate-later rotate-now delete);
    my $op = $ops[int rand @ops];
    $ops_done{$op}++;
    if ($op eq 'rotate-later') {
        my ($rc, $d, $t0, $t1) = pitctl_json('rotate', $s->{id}, '--later');
        return if $rc;
        $s->{prev} = $s->{primary};
        $s->{next} = $d->{token};
        delete $s->{primary};
        issued($d->{token}, $t0, $t1);
    } elsif ($op eq 'expire-now') {
        my ($rc, $d, $t0, $t1) = pitctl_json('expire-now', $s->{id});
        return if $rc;
        revoked($s->{prev}, $t0, $t1);
        $s->{primary} = delete $s->{next};
        delete $s->{prev};
    } elsif ($op eq 'cancel-rotation') {
        my ($rc, $d, $t0, $t1) = pitctl_json('cancel-rotation', $s->{id});
        return if $rc;
        revoked($s->{next}, $t0, $t1);
        $s->{primary} = delete $s->{prev};
        delete $s->{next};
    } elsif ($op eq 'rotate-now') {
        my ($rc, $d, $t0, $t1) = pitctl_json('rotate', $s->{id}, '--now');
        return if $rc;
        revoked($_, $t0, $t1) for grep { defined } @$s{qw(primary next prev)};
        $slot[$i] = { id => $s->{id}, primary => $d->{token} };
        issued($d->{token}, $t0, $t1);
    } else {
        my ($rc, $d, $t0, $t1) = pitctl_json('delete', $s->{id});
        return if $rc;
        revoked($_, $t0, $t1) for grep { defined } @$s{qw(primary next prev)};
        create_slot($i);
    }
}

# --- load ------------------------------------------------------------------

my @malformed = (
    'pit-0123abcd-0000-4000-8000-00000000beeZ',
    'pit-0123ABCD-0000-4000-8000-00000000BEEF',
    'pit-0123abcd-0000-4000-8000-00000000bee',
    'pit-0123abcd00000-4000-8000-00000000beef',
    'pit-0123abcd-0000-4000-8000-00000000beef0',
    'xyz-0123abcd-0000-4000-8000-00000000beef',
    'pit-',
    'pit-0123abcd-0000-4000-8000-00000000be%66',
);

sub random_token {
    my $h = join '', map { sprintf '%02x', int rand 256 } 1 .. 16;
    return 'pit-' . join '-', substr($h, 0, 8), substr($h, 8, 4),
        substr($h, 12, 4), substr($h, 16, 4), substr($h, 20, 12);
}

# One client: keepalive connection, `rate` requests/s (0: as fast as it
# can) until `until`; records "t_send t_recv kind token status".
sub client {
    my ($n, $rate, $until) = @_;
    srand($$ ^ time);
    open my $out, '>', "$dir/load.$n" or die;
    open my $tin, '<', "$dir/tokens" or die;
    my (@tok, $sock, $last_read);
    my $next = time;
    while (time < $until) {
        if (!$last_read || time - $last_read > 0.05) {
            seek $tin, 0, 1;
            while (my $l = <$tin>) { chomp $l; push @tok, $l if length $l == 40; }
            $last_read = time;
        }
        my $r = rand;
        my ($kind, $tok);
        if ($r < 0.15)    { ($kind, $tok) = ('malformed', $malformed[rand @malformed]); }
        elsif ($r < 0.30) { ($kind, $tok) = ('unknown', random_token()); }
        elsif ($r < 0.86) { ($kind, $tok) = ('recent', $tok[-1 - int rand(@tok < 40 ? @tok : 40)]); }
        else              { ($kind, $tok) = ('any', $tok[rand @tok]); }
        $sock ||= IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                        PeerPort => $port, Proto => 'tcp');
        if (!$sock) { sleep 0.01; next; }
        my $t0 = time;
        my $req = "GET /api/x HTTP/1.1\r\nHost: soak\r\n"
                  . "Authorization: Bearer $tok\r\n\r\n";
        my $st = 0;
        if (syswrite($sock, $req) == length $req) {
            my $buf = '';
            while ($buf !~ /\r\n\r\n/) {
                my $k = sysread $sock, $buf, 16384, length $buf;
                last unless $k;
            }
            if ($buf =~ m{^HTTP/1\.1 (\d+).*?\r\n\r\n}s) {
                $st = $1;
                my ($len) = $buf =~ /\r\nContent-Length: (\d+)/i;
                my $have = length($buf) - (index($buf, "\r\n\r\n") + 4);
                while (defined $len && $have < $len) {
                    my $k = sysread $sock, $buf, 16384, length $buf;
                    last unless $k;
                    $have += $k;
                }
                undef $sock if $buf =~ /\r\nConnection: close/i;
            }
        }
        undef $sock unless $st;
        printf $out "%.4f %.4f %s %s %d\n", $t0, time, $kind, $tok, $st;
        if ($rate) {
            $next += 1 / $rate;
            my $d = $next - time;
            sleep $d if $d > 0;
            $next = time if $d < -0.5;
        }
    }
    close $out;
    POSIX::_exit(0);
}

sub run_clients {
    my ($secs, $rate) = @_;
    my $until = time + $secs;
    my @pids;
    for my $n (1 .. $CLIENTS) {
        my $pid = fork // die;
        client($n, $rate ? $rate / $CLIENTS : 0, $until) if $pid == 0;
        push @pids, $pid;
    }
    return @pids;
}

sub rows {
    my @rows;
    for my $f (glob "$dir/load.*") {
        open my $fh, '<', $f or next;
        push @rows, map { [split] } <$fh>;
    }
    unlink glob "$dir/load.*";
    return @rows;
}

# --- peak, then the soak ------------------------------------------------------

my $PEAK_SECS = $SECS >= 120 ? 10 : 3;
waitpid $_, 0 for run_clients($PEAK_SECS, 0);
my @peak = rows();
my $peak = @peak / $PEAK_SECS;
my $rate = 0.7 * $peak;
printf "soak: peak %.0f requests/s (%d clients, %d s); soak at %.0f/s "
       . "for %d s\n", $peak, $CLIENTS, $PEAK_SECS, $rate, $SECS;

my $mon = fork // die;
if ($mon == 0) {
    open STDOUT, '>', "$dir/monitor" or POSIX::_exit(1);
    { exec 'redis-cli', '-p', $redis->port, 'MONITOR'; }
    POSIX::_exit(127);
}

my @workers = $t->nginx->worker_pids;
sub mem {
    my %m;
    for my $w (@workers) {
        my $s = PitTest::slurp("/proc/$w/status");
        my ($rss) = $s =~ /^VmRSS:\s+(\d+)/m;
        my ($anon) = $s =~ /^RssAnon:\s+(\d+)/m;
        $m{rss} += $rss // 0;
        $m{anon} += $anon // 0;
    }
    return \%m;
}

my $start = time;
my $alert0 = scalar $t->bad_log_lines;
my @pids = run_clients($SECS, $rate);
my (@mem, $n_ops);
my $next_op = time;
my $next_mem = time;
while (time < $start + $SECS) {
    if (time >= $next_op) {
        change_one();
        $n_ops++;
        $next_op += 0.1;
    }
    if (time >= $next_mem) {
        push @mem, [time - $start, mem()];
        $next_mem += 1;
    }
    my $d = ($next_op < $next_mem ? $next_op : $next_mem) - time;
    sleep $d if $d > 0;
}
waitpid $_, 0 for @pids;
push @mem, [time - $start, mem()];
sleep 0.2;
kill 'TERM', $mon;
waitpid $mon, 0;
my @rows = rows();

# --- the oracle ---------------------------------------------------------------

my %ev;
open my $evr, '<', "$dir/events" or die;
while (<$evr>) {
    my ($a, $b, $tok, $v) = split;
    push @{ $ev{$tok} }, [$a, $b, $v];
}

my (%count, @mismatch, $max_lag);
$max_lag = 0;
for my $r (@rows) {
    my ($ts, $tr, $kind, $tok, $st) = @$r;
    $count{$kind}++;
    $count{"status $st"}++;
    my $ok;
    if ($kind eq 'malformed') {
        $ok = $st == 400 || $st == 401;
    } elsif ($kind eq 'unknown' || !$ev{$tok}) {
        $ok = $st == 401;
    } else {
        my ($state, $unsure) = (0, 0);
        for my $e (@{ $ev{$tok} }) {
            my ($a, $b, $v) = @$e;
            $state = $v if $b <= $ts;
            $unsure = 1 if $ts <= $b + ($v ? 0 : $WINDOW) && $tr >= $a;
            if (!$v && $st == 200 && $ts > $b) {
                $max_lag = $ts - $b if $ts - $b > $max_lag;
            }
        }
        $ok = $unsure ? ($st == 200 || $st == 401)
                      : $st == ($state ? 200 : 401);
    }
    push @mismatch, "@$r" unless $ok;
}

# Redis commands naming a malformed token (their would-be keys)
my $monitor = PitTest::slurp("$dir/monitor");
my @mon_lines = split /\n/, $monitor;
my $malformed_cmds = 0;
for my $m (@malformed) {
    my $h = sha256_hex($m);
    $malformed_cmds += () = $monitor =~ /\Q$h\E/g;
    $malformed_cmds += () = $monitor =~ /\Q$m\E/g if length $m == 40;
}
my $gets = grep { /"GET"/i } @mon_lines;

# RSS growth after warm-up (the first 30% of the run, at least 5 s)
my $warm = $SECS * 0.3 < 5 ? 5 : $SECS * 0.3;
my ($base) = grep { $_->[0] >= $warm } @mem;
my @tail = @mem[-3 .. -1];
my $end_rss = 0; $end_rss += $_->[1]{rss} for @tail; $end_rss /= 3;
my $end_anon = 0; $end_anon += $_->[1]{anon} for @tail; $end_anon /= 3;
my $growth = $base ? ($end_rss - $base->[1]{rss}) / $base->[1]{rss} : 1;
my $growth_anon = $base ? ($end_anon - $base->[1]{anon}) / $base->[1]{anon}
                        : 1;

my @bad = $t->bad_log_lines;
my $alerts = @bad - $alert0;

printf "soak: %d requests in %.0f s (%.0f/s), %d pitctl changes (%s)\n",
    scalar @rows, $SECS, @rows / $SECS, $n_ops,
    join(', ', map { "$_ $ops_done{$_}" } sort keys %ops_done);
printf "soak: by kind: %s\n", join(', ', map { "$_ $count{$_}" }
                                       sort grep { !/status/ } keys %count);
printf "soak: by status: %s\n", join(', ', map { s/status //r . " $count{$_}" }
                                         sort grep { /status/ } keys %count);
printf "soak: mismatches: %d (revocation window %.1f s; %s)\n",
    scalar @mismatch, $WINDOW, $max_lag > 0
    ? sprintf('latest 200 of a revoked token %.0f ms after pitctl returned',
              $max_lag * 1000)
    : 'no 200 for a revoked token once pitctl had returned';
printf "soak: worker RSS %d kB after warm-up (%.0f s), %d kB at the end: "
       . "%+.2f%% (anonymous %+.2f%%)\n",
    $base ? $base->[1]{rss} : 0, $warm, $end_rss, 100 * $growth,
    100 * $growth_anon;
printf "soak: Redis GETs seen %d; commands naming a malformed token: %d\n",
    $gets, $malformed_cmds;
printf "soak: [alert]/[crit] lines: %d\n", $alerts;
print "soak: mismatch: $_\n" for @mismatch[0 .. ($#mismatch < 19 ? $#mismatch : 19)];
print "soak: $_\n" for @bad;

my $fail = @mismatch || $growth >= 0.01 || $malformed_cmds || $alerts
           || @rows < $SECS * 10 || $gets == 0;
print $fail ? "soak: FAILED\n" : "soak: ok\n";
exit($fail ? 1 : 0);

package PitCache;

# Helpers for the shared-memory cache's tests: the pit_auth_stats JSON,
# Redis command counters, tokens written straight into Redis (as an admin
# might by hand), and latency measurement.

use strict;
use warnings;

use JSON::PP ();
use Digest::SHA ();
use Time::HiRes qw(time sleep);
use POSIX qw(floor);
use PitTest;
use PitModule;

# A PitModule nginx with a cache zone and a stats location.
# new(zone => 'zone=auth:1m', workers => 2, server => more, ...)
sub nginx {
    my (%o) = @_;
    my $zone = delete $o{zone} // 'zone=auth:1m';
    my $server = delete $o{server} // '';
    my $loc = delete $o{location} // '';
    return PitModule->new(
        workers => 2,
        %o,
        http => "    pit_auth_cache $zone;\n" . ($o{http} // ''),
        server => <<"END");
        add_header X-Status \$pit_auth_status always;
        add_header X-Pid \$pid always;
        location /api/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
$loc
            proxy_pass %%UP%%;
        }
        location = /stats {
            pit_auth_stats;
        }
$server
END
}

# The counters of zone NAME (default auth) as a hash.
sub stats {
    my ($t, $zone) = @_;
    my $r = $t->get('/stats');
    my $d = eval { JSON::PP->new->decode($r->{body}) } or return {};
    return $d->{zones}{ $zone // 'auth' } // {};
}

# Calls of one Redis command so far (INFO commandstats).
sub calls {
    my ($redis, $cmd) = @_;
    my $info = $redis->raw('INFO', 'commandstats');
    my ($n) = $info =~ /^cmdstat_\Q$cmd\E:calls=(\d+)/m;
    return $n // 0;
}

# A random well-formed token.
sub random_token {
    my $h = join '', map { sprintf '%02x', int rand 256 } 1 .. 16;
    substr($h, 12, 1) = '4';
    substr($h, 16, 1) = (qw(8 9 a b))[int rand 4];
    return 'pit-' . join '-', substr($h, 0, 8), substr($h, 8, 4),
        substr($h, 12, 4), substr($h, 16, 4), substr($h, 20, 12);
}

sub random_iid {
    my @c = ('A' .. 'Z', 'a' .. 'z', 0 .. 9);
    return join '', map { $c[rand @c] } 1 .. 20;
}

# Writes n token records straight into Redis (one redis-cli pipe); returns
# the tokens.  Each has its own integration id; scopes as given.
sub hand_tokens {
    my ($redis, $n, %o) = @_;
    my $scopes = $o{scopes} // ['contacts.readonly'];
    my @tok = map { random_token() } 1 .. $n;
    my $in = '';
    for my $tok (@tok) {
        my $rec = JSON::PP->new->canonical->encode({
            v => 1, iid => random_iid(), acct => $o{account} // 'acct1',
            acct_type => 'location', scopes => $scopes, role => 'primary',
            until => 0 });
        $in .= resp('SET', PitTest::Pitctl::token_key($tok), $rec);
    }
    my ($rc, $out, $err) = PitTest::run_cmd(
        ['redis-cli', '-p', $redis->port, '--pipe'], stdin => $in);
    die "redis-cli --pipe: $err$out" if $rc;
    return @tok;
}

sub resp {
    my @a = @_;
    return '*' . @a . "\r\n" . join '', map { '$' . length($_) . "\r\n$_\r\n" }
        @a;
}

# Polls a token every 5 ms until it is refused; returns seconds from t0 to
# the answer of the first refused request (undef if still accepted after
# limit seconds).  In list context also the time to that request's start:
# every request sent later than that is refused, however slowly a loaded
# machine answers it.
sub time_to_refusal {
    my ($t, $tok, $t0, $limit) = @_;
    $limit //= 2;
    while (1) {
        my $sent = time;
        my $st = $t->bearer('/api/x', $tok)->{status};
        my $now = time;
        if ($st != 200) {
            return wantarray ? ($now - $t0, $sent - $t0) : $now - $t0;
        }
        return if $now - $t0 > $limit;
        sleep 0.005;
    }
}

sub percentile {
    my ($p, @v) = @_;
    @v = sort { $a <=> $b } @v;
    return undef unless @v;
    my $i = floor($p / 100 * $#v + 0.5);
    return $v[$i];
}

sub ms { sprintf '%.1f ms', 1000 * ($_[0] // 'nan') }

1;

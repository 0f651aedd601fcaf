package PitSentinel;

# A Redis fleet for the sentinel tests: a primary, replicas started with
# --replicaof, and sentinels (redis-server --sentinel) watching master "m",
# all real servers on free loopback ports.

use strict;
use warnings;

use JSON::PP ();
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);
use PitTest;
use PitModule;

# new(replicas => 2, sentinels => 3)
sub new {
    my ($class, %o) = @_;
    my $self = bless { owner => $$, sentinels => [], replicas => [] }, $class;
    my @fast = ('--repl-diskless-sync-delay', '0', '--repl-ping-replica-period', '1');
    $self->{primary} = PitTest::Redis->new(extra => [@fast]);
    my $pp = $self->{primary}->port;
    for (1 .. $o{replicas} // 2) {
        push @{ $self->{replicas} }, PitTest::Redis->new(
            extra => [@fast, @{ $o{replica_extra} // [] },
                      '--replicaof', '127.0.0.1', $pp]);
    }
    $self->wait_linked($_) for @{ $self->{replicas} };
    for (1 .. $o{sentinels} // 3) {
        push @{ $self->{sentinels} }, $self->start_sentinel($pp);
    }
    $self->wait_sentinels(scalar @{ $self->{replicas} });
    return $self;
}

sub primary   { $_[0]{primary} }
sub replicas  { @{ $_[0]{replicas} } }
sub sentinels { @{ $_[0]{sentinels} } }
sub servers   { ($_[0]{primary}, @{ $_[0]{replicas} }) }

# "sentinel=m 127.0.0.1:A 127.0.0.1:B ..."
sub directive_args {
    my ($self) = @_;
    return join ' ', 'sentinel=m',
        map { "127.0.0.1:$_->{port}" } @{ $self->{sentinels} };
}

sub start_sentinel {
    my ($self, $pp) = @_;
    my $s = { dir => PitTest::server_dir(), port => PitTest::free_port() };
    open my $fh, '>', "$s->{dir}/sentinel.conf" or die;
    print $fh <<"END";
port $s->{port}
bind 127.0.0.1
dir $s->{dir}
sentinel monitor m 127.0.0.1 $pp 2
sentinel down-after-milliseconds m 1000
sentinel failover-timeout m 5000
sentinel parallel-syncs m 2
END
    close $fh;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$s->{dir}/sentinel.out";
        open STDERR, '>&', \*STDOUT;
        { exec 'redis-server', "$s->{dir}/sentinel.conf", '--sentinel'; }
        POSIX::_exit(127);
    }
    $s->{pid} = $pid;
    PitTest::wait_port($s->{port}, 10) or die "sentinel did not start";
    return bless $s, 'PitSentinel::Sentinel';
}

# Waits until a replica's link to its primary is up.
sub wait_linked {
    my ($self, $r, $limit) = @_;
    my $end = time + ($limit // 20);
    while (time < $end) {
        return 1 if $r->raw('INFO', 'replication') =~ /master_link_status:up/;
        sleep 0.05;
    }
    return 0;
}

# Waits until every sentinel lists n replicas with a link "ok" and knows
# the other sentinels.
sub wait_sentinels {
    my ($self, $n, $limit) = @_;
    my $others = @{ $self->{sentinels} } - 1;
    my $end = time + ($limit // 30);
    while (time < $end) {
        my $ok = 1;
        for my $s (@{ $self->{sentinels} }) {
            my $out = $s->raw('SENTINEL', 'replicas', 'm');
            my $up = () = $out =~ /master-link-status\nok/g;
            my $m = $s->raw('SENTINEL', 'master', 'm');
            my ($o) = $m =~ /num-other-sentinels\n(\d+)/;
            $ok = 0 unless $up >= $n && ($o // 0) >= $others;
        }
        return 1 if $ok;
        sleep 0.1;
    }
    return 0;
}

# The primary's port as the first sentinel says.
sub master_port {
    my ($self, $s) = @_;
    $s //= $self->{sentinels}[0];
    my @a = split /\n/, $s->raw('SENTINEL', 'get-master-addr-by-name', 'm');
    return $a[1];
}

# SIGKILLs the primary; returns the new primary's Redis object once every
# sentinel names it (undef after limit seconds).
sub kill_primary {
    my ($self, $limit) = @_;
    my $old = $self->{primary};
    my $oport = $old->port;
    $old->stop('KILL');
    my $end = time + ($limit // 30);
    while (time < $end) {
        my %ports = map { ($self->master_port($_) // 0) => 1 }
            @{ $self->{sentinels} };
        my @p = keys %ports;
        if (@p == 1 && $p[0] && $p[0] != $oport) {
            my ($new) = grep { $_->port == $p[0] } @{ $self->{replicas} };
            if ($new && $new->raw('ROLE') =~ /^master/) {
                $self->{primary} = $new;
                $self->{replicas} = [ grep { $_ != $new }
                                      @{ $self->{replicas} } ];
                $self->{dead} = $old;
                return $new;
            }
        }
        sleep 0.05;
    }
    return undef;
}

# After a failover: waits until every sentinel names the same primary, it
# answers ROLE master, and that has held for `quiet` seconds (default 2.5,
# past down-after-milliseconds): on a loaded machine the sentinels may
# judge a just-promoted primary down before their first PING reply and
# fail over again, so the first new primary is not always the last.
# Returns the primary (also primary/replicas of the fixture: the servers
# that still answer), or undef after limit seconds.
sub settle {
    my ($self, $quiet, $limit) = @_;
    $quiet //= 2.5;
    my $end = time + ($limit // 30);
    my @all = grep { defined } $self->{primary}, @{ $self->{replicas} },
                               $self->{dead};
    my ($port, $since);
    while (time < $end) {
        my %ports = map { ($self->master_port($_) // 0) => 1 }
            @{ $self->{sentinels} };
        my @p = keys %ports;
        my ($new) = @p == 1 ? grep { $_->port == $p[0] } @all : ();
        if ($new && $new->raw('ROLE') =~ /^master/) {
            ($port, $since) = ($p[0], time) if !$port || $port != $p[0];
            if (time - $since >= $quiet) {
                $self->{primary} = $new;
                $self->{replicas} = [ grep { $_ != $new
                                             && $_->raw('PING') =~ /PONG/ }
                                      @all ];
                return $new;
            }
        } else {
            undef $port;
        }
        sleep 0.1;
    }
    return undef;
}

# Calls of a command on a server so far.
sub calls {
    my ($r, $cmd) = @_;
    my ($n) = $r->raw('INFO', 'commandstats') =~ /^cmdstat_\Q$cmd\E:calls=(\d+)/m;
    return $n // 0;
}

# The backends part of pit_auth_stats.
sub backends {
    my ($t) = @_;
    my $r = $t->get('/stats');
    my $d = eval { JSON::PP->new->decode($r->{body}) } or return {};
    return $d->{backends} // {};
}

# The first backend's stats.
sub backend {
    my ($t) = @_;
    my $b = backends($t);
    my ($k) = sort keys %$b;
    return $k ? $b->{$k} : {};
}

# Polls until code returns true; seconds waited, or undef after limit.
sub wait_until {
    my ($code, $limit, $step) = @_;
    my $t0 = time;
    while (time - $t0 < ($limit // 10)) {
        return time - $t0 if $code->();
        sleep $step // 0.02;
    }
    return undef;
}

sub DESTROY {
    my ($self) = @_;
    local $?;                   # the test's exit status
    return unless $$ == $self->{owner};
    $_->stop for grep { defined } @{ $self->{sentinels} || [] };
}

package PitSentinel::Sentinel;

sub port { $_[0]{port} }

sub raw {
    my ($self, @args) = @_;
    my ($rc, $out) = PitTest::run_cmd(['redis-cli', '-p', $self->{port},
                                       '--raw', @args]);
    chomp $out;
    return $out;
}

# The sentinel's log: what it saw and did (for a failing test's diag).
sub log_text {
    my ($self) = @_;
    open my $fh, '<', "$self->{dir}/sentinel.out" or return '';
    local $/;
    return <$fh>;
}

sub stop {
    my ($self, $sig) = @_;
    return unless $self->{pid};
    kill 'CONT', $self->{pid};
    kill $sig // 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

sub DESTROY { local $?; $_[0]->stop if $_[0]{pid} }

1;

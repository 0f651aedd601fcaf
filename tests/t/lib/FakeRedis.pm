package FakeRedis;

# A fake Redis for fault injection: a forked core-Perl server on a free
# loopback port that speaks enough RESP2 for the nginx module's lookup
# connection (AUTH, SELECT, PING, GET) and misbehaves on demand.  Used only
# for the fault cases; every other test talks to a real redis-server.
#
#   my $f = FakeRedis->new(data => { $key => $value });
#   $f->mode('garbage');          # every later GET gets garbage RESP
#   $f->mode('slow', 0.5);        # answers GET after 0.5 s
#   $f->gets;                     # GET commands received so far
#
# Modes (what a GET gets):
#   ok        the value, or a nil bulk
#   half      the first half of the reply, then nothing, ever, on that
#             connection (it stays hung after the mode changes)
#   close     the first half of the reply, then the connection is closed
#   garbage   bytes that are not RESP ("?garbage\r\n")
#   huge      "$536870912\r\n" (a 512 MB bulk) and 64 kB of it, then hangs
#   nested    an array nested 10,000 deep
#   error     "-ERR fake failure"
#   integer   ":1" (a reply of the wrong type)
#   slow      the right reply after the mode's argument, in seconds
#   hang      nothing, ever, on that connection
#   refuse    every new connection is closed at once, and a GET on an
#             older one closes it
#
# Control commands arrive on a second port (never faulty): FAKEMODE name
# [arg], FAKESTATS (an array: GET count, connections accepted).

use strict;
use warnings;

use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Time::HiRes qw(time sleep);
use PitTest;

sub new {
    my ($class, %o) = @_;
    my $self = bless { port => $o{port} // PitTest::free_port(),
                       ctl_port => PitTest::free_port(),
                       data => $o{data} // {},
                       owner => $$ }, $class;
    $self->start;
    $self->mode($o{mode}) if $o{mode};
    return $self;
}

sub port { $_[0]{port} }
sub pid  { $_[0]{pid} }
sub url  { "redis://127.0.0.1:$_[0]{port}" }

sub start {
    my ($self) = @_;
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                       LocalPort => $self->{port},
                                       Proto => 'tcp', Listen => 128,
                                       ReuseAddr => 1)
        or die "FakeRedis: listen on $self->{port}: $!";
    my $ctl = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                    LocalPort => $self->{ctl_port},
                                    Proto => 'tcp', Listen => 16,
                                    ReuseAddr => 1)
        or die "FakeRedis: listen on $self->{ctl_port}: $!";
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        eval { serve($listen, $ctl, $self->{data}) };
        POSIX::_exit(0);
    }
    close $listen;
    close $ctl;
    $self->{pid} = $pid;
    PitTest::wait_port($self->{port}, 5) or die "FakeRedis did not start";
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'KILL', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

sub DESTROY {
    local $?;    # the killed child's status must not become the exit code
    $_[0]->stop if $_[0]{pid} && $$ == $_[0]{owner};
}

# Sends one command to the fake's control port (never faulty) and returns
# its raw reply.
sub control {
    my ($self, @args) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $self->{ctl_port},
                                  Proto => 'tcp',
                                  Timeout => 2)
        or die "FakeRedis control: $!";
    print $s resp_command(@args);
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $end = time + 2;
    while (time < $end && $buf !~ /\r\n\z/) {
        last unless $sel->can_read(0.2);
        my $n = sysread $s, $buf, 4096, length $buf;
        last unless $n;
    }
    close $s;
    return $buf;
}

sub mode {
    my ($self, $mode, $arg) = @_;
    my $r = $self->control('FAKEMODE', $mode, defined $arg ? $arg : ());
    die "FakeRedis: mode $mode: $r" unless $r =~ /^\+OK/;
}

# (GET commands received, connections accepted)
sub stats {
    my ($self) = @_;
    my $r = $self->control('FAKESTATS');
    my @n = $r =~ /:(\d+)\r\n/g;
    return @n;
}

sub gets { ($_[0]->stats)[0] }

sub resp_command {
    my @a = @_;
    return '*' . @a . "\r\n" . join '', map { '$' . length($_) . "\r\n$_\r\n" } @a;
}

# CPU time (seconds, user + system) a process has used so far.
sub cpu_seconds {
    my ($pid) = @_;
    my $stat = PitTest::slurp("/proc/$pid/stat");
    $stat =~ s/^.*\) //s;
    my @f = split ' ', $stat;
    my $hz = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;
    return (($f[11] // 0) + ($f[12] // 0)) / $hz;
}

sub bulk { defined $_[0] ? '$' . length($_[0]) . "\r\n$_[0]\r\n" : "\$-1\r\n" }

###########################################################################
# The server (runs in the forked child)

# Parses one RESP array command from the front of $$buf; returns the
# argument list, or undef if incomplete, or [] on a protocol error.
sub parse_command {
    my ($buf) = @_;
    return undef unless $$buf =~ /\A\*(\d+)\r\n/;
    my $n = $1;
    my $pos = length("*$n\r\n");
    my @args;
    for (1 .. $n) {
        my $rest = substr($$buf, $pos);
        return undef unless $rest =~ /\A\$(\d+)\r\n/;
        my $len = $1;
        my $h = length("\$$len\r\n");
        return undef if length($rest) < $h + $len + 2;
        push @args, substr($rest, $h, $len);
        $pos += $h + $len + 2;
    }
    substr($$buf, 0, $pos) = '';
    return \@args;
}

sub serve {
    my ($listen, $ctl, $data) = @_;
    $SIG{PIPE} = 'IGNORE';
    my %st = (mode => 'ok', arg => undef, gets => 0, accepted => 0);
    my $sel = IO::Select->new($listen, $ctl);
    my %conn;       # fileno -> { sock, in, hung, closed, dead, busy_until }
    my @later;      # [time, connection, bytes]

    while (1) {
        my $now = time;
        my $wait = 0.05;
        for my $d (@later) {
            my $w = $d->[0] - $now;
            $wait = $w if $w < $wait;
        }
        $wait = 0 if $wait < 0;
        my @ready = $sel->can_read($wait);

        for my $s (@ready) {
            if ($s == $listen || $s == $ctl) {
                my $c = $s->accept or next;
                my $is_ctl = $s == $ctl;
                $st{accepted}++ unless $is_ctl;
                if (!$is_ctl && $st{mode} eq 'refuse') { close $c; next; }
                $c->blocking(0);
                $conn{fileno $c} = { sock => $c, in => '', ctl => $is_ctl };
                $sel->add($c);
                next;
            }
            my $fd = fileno $s;
            my $c = $conn{$fd};
            my $n = sysread $s, my $chunk, 65536;
            if (!$n) {
                $sel->remove($s);
                close $s;
                $c->{dead} = 1;
                delete $conn{$fd};
                next;
            }
            next if $c->{hung};
            $c->{in} .= $chunk;
            while (my $cmd = parse_command(\$c->{in})) {
                if (!@$cmd) { last; }
                handle($c, $cmd, \%st, $data, \@later);
                last if $c->{hung} || $c->{closed};
            }
            if ($c->{closed}) {
                $sel->remove($s);
                close $s;
                $c->{dead} = 1;
                delete $conn{$fd};
            }
        }

        $now = time;
        my @keep;
        for my $d (@later) {
            if ($d->[0] > $now) { push @keep, $d; next; }
            send_all($d->[1]{sock}, $d->[2]) unless $d->[1]{dead};
        }
        @later = @keep;
    }
}

sub send_all {
    my ($sock, $bytes) = @_;
    my $off = 0;
    my $end = time + 2;
    while ($off < length $bytes && time < $end) {
        my $n = syswrite $sock, $bytes, 65536, $off;
        if (!defined $n) { sleep 0.001; next; }
        $off += $n;
    }
}

# Sends bytes now, or after the delayed replies queued on this connection
# (so that a reply never overtakes an earlier one).
sub reply {
    my ($c, $bytes, $later, $delay) = @_;
    my $at = time + ($delay // 0);
    $at = $c->{busy_until} if ($c->{busy_until} // 0) > $at;
    if ($at <= time) { send_all($c->{sock}, $bytes); return; }
    $c->{busy_until} = $at;
    push @$later, [$at, $c, $bytes];
}

sub handle {
    my ($c, $cmd, $st, $data, $later) = @_;
    my $name = uc($cmd->[0] // '');
    my $s = $c->{sock};

    if ($c->{ctl} && $name eq 'FAKEMODE') {
        $st->{mode} = $cmd->[1];
        $st->{arg} = $cmd->[2];
        reply($c, "+OK\r\n", $later);
        return;
    }
    if ($c->{ctl} && $name eq 'FAKESTATS') {
        reply($c, "*2\r\n:$st->{gets}\r\n:$st->{accepted}\r\n", $later);
        return;
    }
    if ($name eq 'PING') { reply($c, "+PONG\r\n", $later); return; }
    if ($name eq 'AUTH' || $name eq 'SELECT' || $name eq 'CLIENT') {
        reply($c, "+OK\r\n", $later);
        return;
    }
    if ($name ne 'GET') {
        reply($c, "-ERR unknown command '$cmd->[0]'\r\n", $later);
        return;
    }

    $st->{gets}++;
    my $reply = bulk($data->{ $cmd->[1] // '' });
    my $m = $st->{mode};
    if ($m eq 'ok') {
        reply($c, $reply, $later);
    } elsif ($m eq 'refuse') {
        $c->{closed} = 1;
    } elsif ($m eq 'half') {
        reply($c, substr($reply, 0, int(length($reply) / 2) || 1), $later);
        $c->{hung} = 1;
    } elsif ($m eq 'close') {
        reply($c, substr($reply, 0, int(length($reply) / 2) || 1), $later);
        $c->{closed} = 1;
    } elsif ($m eq 'garbage') {
        reply($c, "?garbage\r\n\x00\xff\r\n", $later);
    } elsif ($m eq 'huge') {
        reply($c, "\$536870912\r\n" . ('x' x 65536), $later);
        $c->{hung} = 1;
    } elsif ($m eq 'nested') {
        reply($c, ("*1\r\n" x 10_000) . ":1\r\n", $later);
    } elsif ($m eq 'error') {
        reply($c, "-ERR fake failure\r\n", $later);
    } elsif ($m eq 'integer') {
        reply($c, ":1\r\n", $later);
    } elsif ($m eq 'slow') {
        reply($c, $reply, $later, $st->{arg} // 1);
    } elsif ($m eq 'hang') {
        $c->{hung} = 1;
    } else {
        reply($c, "-ERR fake: unknown mode $m\r\n", $later);
    }
}

###########################################################################
# Load for the fault tests: forked clients, each looping over the given
# tokens (kind => token) on new connections and recording every answer.

package FakeRedis::Load;

use File::Temp qw(tempdir);
use POSIX ();
use Time::HiRes qw(time sleep);

# start(port, { kind => token }, clients => 4, pace => seconds between a
# client's requests (0), path => '/api/x', secs => 60 (a hard stop))
sub start {
    my ($class, $port, $kinds, %o) = @_;
    my $self = bless { dir => tempdir(CLEANUP => 1), pids => [],
                       owner => $$ }, $class;
    my @k = sort keys %$kinds;
    for my $c (1 .. ($o{clients} // 4)) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            open my $fh, '>', "$self->{dir}/load.$c" or POSIX::_exit(1);
            $fh->autoflush(1);
            my $end = time + ($o{secs} // 60);
            my $i = $c;
            while (time < $end) {
                my $k = $k[$i++ % @k];
                my $t0 = time;
                my $r = PitTest::HTTP::request($port, 'GET ' . ($o{path}
                    // '/api/x'), headers => [Authorization =>
                    "Bearer $kinds->{$k}"], timeout => 5);
                printf $fh "%.4f %.4f %s %d\n", $t0, time, $k, $r->{status};
                sleep $o{pace} if $o{pace};
            }
            POSIX::_exit(0);
        }
        push @{ $self->{pids} }, $pid;
    }
    return $self;
}

# Stops the clients; returns every answer as [start, end, kind, status],
# sorted by start.
sub stop {
    my ($self) = @_;
    kill 'TERM', @{ $self->{pids} };
    waitpid $_, 0 for @{ $self->{pids} };
    $self->{pids} = [];
    my @rows;
    for my $f (glob "$self->{dir}/load.*") {
        open my $fh, '<', $f or next;
        push @rows, map { [split] } grep { /^\d/ } <$fh>;
        unlink $f;
    }
    return sort { $a->[0] <=> $b->[0] } @rows;
}

sub DESTROY {
    my ($self) = @_;
    kill 'KILL', @{ $self->{pids} } if $$ == $self->{owner} && @{ $self->{pids} };
}

1;

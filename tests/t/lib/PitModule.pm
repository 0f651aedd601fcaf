package PitModule;

# Helpers for the nginx module's tests: a real redis-server, a real nginx
# loading build/ngx_http_pit_auth_module.so, a second server block as the
# upstream that echoes the request headers it received, and tokens made by
# pitctl.  Everything started here is stopped when the objects go away.

use strict;
use warnings;

use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time sleep);
use PitTest;

# The upstream: one line per header a proxied request may carry.  nginx's
# $http_* gives the first header of that name that reached the upstream.
my @ECHO = qw(X-Pit-Integration-Id X-Pit-Account-Id X-Pit-Scopes
              X-Pit-Evil Authorization X-Other);

sub echo_server {
    my ($port, $extra) = @_;
    $extra //= '';
    my $body = join '', map {
        my $v = '$http_' . lc($_ =~ s/-/_/gr);
        "$_=$v\\n";
    } @ECHO;
    return <<"END";
    server {
        listen 127.0.0.1:$port;
$extra
        location / {
            default_type text/plain;
            return 200 "uri=\$uri\\n$body";
        }
    }
END
}

# Parses the echo upstream's body into { header => value }.
sub echoed {
    my ($res) = @_;
    my %h;
    for (split /\n/, $res->{body} // '') {
        my ($k, $v) = /^([^=]+)=(.*)$/ or next;
        $h{lc $k} = $v;
    }
    return \%h;
}

# new(server => "directives inside the pit_auth server block",
#     http => "more http-level text", workers => 1, redis => existing,
#     log_level => 'info', timeout => '100ms 300ms',
#     allow_log => [qr/line/ => 'reason', ...]: see PitTest::Nginx,
#     listen_opts => 'reuseport': more parameters of the front listen)
# %%REDIS%% (host:port), %%UP%% (upstream base URL) and %%DIR%% are
# replaced in server and http.
sub new {
    my ($class, %o) = @_;
    my $self = bless {}, $class;
    $self->{redis} = $o{redis} // PitTest::Redis->new;
    $self->{up} = PitTest::free_port();
    my $rport = $self->{redis}->port;
    my $timeout = $o{timeout} // '100ms 300ms';
    my $server = $o{server} // '';
    my $http = $o{http} // '';
    for ($server, $http) {
        s/%%REDIS%%/127.0.0.1:$rport/g;
        s{%%UP%%}{http://127.0.0.1:$self->{up}}g;
    }
    $self->{nginx} = PitTest::Nginx->new(
        no_start => $o{may_fail} ? 1 : 0,
        workers => $o{workers} // 1,
        log_level => $o{log_level} // 'info',
        main => $o{main} // '',
        allow_log => $o{allow_log} // [],
        http => <<"END");
    pit_auth_redis 127.0.0.1:$rport;
    pit_auth_redis_timeout $timeout;
$http
    server {
        listen 127.0.0.1:%%PORT%% backlog=4096${\ ($o{listen_opts} ? " $o{listen_opts}" : '') };
        ${\ ($o{listen_extra} // '') }
$server
        location /open {
            return 200 "open\\n";
        }
    }
${\ echo_server($self->{up}, $o{up_extra}) }
END
    if ($o{may_fail}) {
        # a configuration today's module may refuse (a directive it does
        # not know yet): the error is kept, the port stays closed, and the
        # test's requests then fail one by one instead of the file dying
        eval { $self->{nginx}->start; 1 } or do {
            $self->{start_error} = $@ || 'nginx did not start';
            $self->{nginx}->stop;
        };
    }
    return $self;
}

# The reason nginx did not start (new(may_fail => 1) only), or undef.
sub start_error { $_[0]{start_error} }

sub redis { $_[0]{redis} }
sub nginx { $_[0]{nginx} }
sub port  { $_[0]{nginx}->port }

sub get {
    my ($self, $path, @headers) = @_;
    return PitTest::HTTP::request($self->port, "GET $path",
                                  headers => \@headers);
}

sub bearer {
    my ($self, $path, $token, @more) = @_;
    return $self->get($path, Authorization => "Bearer $token", @more);
}

# A token made by pitctl: (id, token).
sub token {
    my ($self, %o) = @_;
    return PitTest::Pitctl::create($self->{redis}, %o);
}

sub pitctl {
    my ($self, @args) = @_;
    return PitTest::Pitctl::run($self->{redis}, @args);
}

sub bad_log_lines { $_[0]{nginx}->bad_log_lines }
sub allow_log { my $self = shift; $self->{nginx}->allow_log(@_); $self }
sub error_log { $_[0]{nginx}->error_log }

# Sends many requests at once on separate connections; returns the list of
# statuses, in order.  Non-blocking, one process.
sub concurrent {
    my ($port, $reqs, %o) = @_;
    my (@socks, %buf, %idx);
    my $sel = IO::Select->new;
    for my $i (0 .. $#$reqs) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $port, Proto => 'tcp')
            or die "connect: $!";
        $s->autoflush(1);
        push @socks, $s;
        $idx{fileno $s} = $i;
        $buf{fileno $s} = '';
    }
    for my $i (0 .. $#$reqs) {
        syswrite $socks[$i], $reqs->[$i];
        $sel->add($socks[$i]);
    }
    my @status = (0) x @$reqs;
    my $end = time + ($o{timeout} // 20);
    while ($sel->count && time < $end) {
        for my $s ($sel->can_read(0.5)) {
            my $n = sysread $s, my $chunk, 65536;
            if ($n) { $buf{fileno $s} .= $chunk; next; }
            my $i = $idx{fileno $s};
            ($status[$i]) = $buf{fileno $s} =~ m{^HTTP/\d\.\d (\d+)};
            $status[$i] //= 0;
            $sel->remove($s);
            close $s;
        }
    }
    return @status;
}

sub request_text {
    my ($path, @headers) = @_;
    my $t = "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n";
    while (my ($k, $v) = splice @headers, 0, 2) { $t .= "$k: $v\r\n"; }
    return "$t\r\n";
}

# Times one request: (seconds, response).
sub timed {
    my ($self, @args) = @_;
    my $t0 = time;
    my $r = $self->get(@args);
    return (time - $t0, $r);
}

sub DESTROY {
    my ($self) = @_;
    local $?;                   # the test's exit status
    $self->{nginx}->stop if $self->{nginx};
}

###########################################################################
# A raw TCP upstream that records the exact bytes of every request it
# receives (one file per connection) and answers 200 with "raw-ok\n" and
# the request head.  A forked Perl process, stopped when the object goes
# away.  Unlike the echo server block it shows what nginx really sent:
# injected header lines, a second request line, headers nginx's own parser
# would drop or merge.

package PitModule::RawUpstream;

use IO::Socket::INET;
use IO::Select;
use File::Temp qw(tempdir);
use POSIX ();
use Time::HiRes qw(time sleep);

sub new {
    my ($class) = @_;
    my $dir = tempdir(CLEANUP => 1);
    my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                       LocalPort => 0, Proto => 'tcp',
                                       Listen => 128, ReuseAddr => 1)
        or die "raw upstream: $!";
    my $self = bless { dir => $dir, port => $listen->sockport,
                       owner => $$ }, $class;
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        $SIG{TERM} = sub { POSIX::_exit(0) };
        my $n = 0;
        while (1) {
            my $c = $listen->accept or next;
            serve($c, $dir, ++$n);
            close $c;
        }
    }
    close $listen;
    $self->{pid} = $pid;
    return $self;
}

# Reads what is there within $secs (until EOF or quiet): appends to $buf.
sub drain {
    my ($c, $buf, $secs, $until) = @_;
    my $sel = IO::Select->new($c);
    my $end = time + $secs;
    while (time < $end) {
        return 1 if $until && $until->($$buf);
        $sel->can_read($end - time) or last;
        my $k = sysread $c, my $chunk, 65536;
        return 0 unless $k;
        $$buf .= $chunk;
    }
    return 1;
}

sub serve {
    my ($c, $dir, $n) = @_;
    my $buf = '';
    drain($c, \$buf, 5, sub {
        my ($head, $rest) = split /\r\n\r\n/, $_[0], 2;
        return 0 unless defined $rest;
        my ($len) = $head =~ /^content-length:\s*(\d+)/mi;
        return length($rest) >= ($len // 0);
    });
    drain($c, \$buf, 0.05);          # anything pipelined right behind
    my $tmp = "$dir/.tmp-$n";
    open my $fh, '>', $tmp or return;
    binmode $fh;
    print $fh $buf;
    close $fh;
    rename $tmp, sprintf('%s/req-%06d', $dir, $n);
    my ($head) = split /\r\n\r\n/, $buf, 2;
    my $body = "raw-ok\n" . ($head // '') . "\n";
    syswrite $c, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                 . "Content-Length: " . length($body) . "\r\n"
                 . "Connection: close\r\n\r\n$body";
    # whatever still comes on this connection belongs to it too
    my $more = '';
    drain($c, \$more, 0.3);
    if (length $more) {
        open my $fa, '>>', sprintf('%s/req-%06d', $dir, $n) or return;
        binmode $fa;
        print $fa $more;
        close $fa;
    }
}

sub port { $_[0]{port} }
sub url  { "http://127.0.0.1:$_[0]{port}" }

# Every request received so far, raw, oldest first.
sub requests {
    my ($self) = @_;
    return map { PitTest::slurp($_) } sort glob "$self->{dir}/req-*";
}

# All bytes received so far, as one string.
sub all { join '', $_[0]->requests }

sub count { scalar(my @r = glob "$_[0]{dir}/req-*") }

sub clear { unlink glob "$_[0]{dir}/req-*" }

# Waits until at least $n requests arrived or $secs passed; returns count.
sub wait_for {
    my ($self, $n, $secs) = @_;
    my $end = time + ($secs // 2);
    sleep 0.02 while $self->count < $n && time < $end;
    return $self->count;
}

# Header lines (name => value pairs, in order) of one raw request.
sub header_lines {
    my ($raw) = @_;
    my ($head) = split /\r\n\r\n/, $raw // '', 2;
    my @lines = split /\r\n/, $head // '';
    shift @lines;
    return map { /^([^:]*):\s*(.*)$/ ? [$1, $2] : [$_, undef] } @lines;
}

sub stop {
    my ($self) = @_;
    return unless $self->{pid};
    kill 'TERM', $self->{pid};
    waitpid $self->{pid}, 0;
    delete $self->{pid};
}

sub DESTROY { local $?; $_[0]->stop if $_[0]{pid} && $$ == $_[0]{owner} }

1;

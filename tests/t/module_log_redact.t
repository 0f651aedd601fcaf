#!/usr/bin/perl
# Tokens are masked in what nginx itself writes: its debug lines (request
# line, every request header, proxied headers), its info line for a
# duplicate header, a line cut at nginx's 2 KB limit, every error log of
# the http{} block (main, server, location, syslog), and the access log's
# request line when the token came as ?access_token=, over HTTP/1.1 and
# HTTP/2.  The main error log is checked too (it only gets the master's
# lines here: http{} has logs of its own).  Each check also finds the masked form, so nginx did write the
# line and the test would see a token if one were there.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use IO::Socket::INET;
use IO::Select;
use File::Find;
use PitTest;
use PitModule;

my $udp = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                Proto => 'udp') or die "udp: $!";
my $syslog_port = $udp->sockport;
my $h2 = PitTest::free_port();

my $t = PitModule->new(log_level => 'debug', timeout => '100ms 300ms',
    listen_extra => "listen 127.0.0.1:$h2 http2;",
    http => <<"END",
    error_log syslog:server=127.0.0.1:$syslog_port,nohostname debug;
    error_log %%DIR%%/logs/http.log debug;
    log_format full '\$request|\$request_uri|\$args';
END
    server => <<'END');
        access_log %%DIR%%/logs/full.log full;
        location /api/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
        location /loc/ {
            error_log %%DIR%%/logs/location.log debug;
            pit_auth on;
            pit_auth_hide_token off;
            proxy_pass %%UP%%;
        }
        location /plain/ {
            proxy_pass %%UP%%;
        }
        location /mem/ {
            error_log memory:64k debug;
            error_log %%DIR%%/logs/mem.log debug;
            error_log stderr debug;
            pit_auth on;
            pit_auth_hide_token off;
            proxy_pass %%UP%%;
        }
END
my $dir = $t->nginx->dir;

my ($id, $tok) = $t->token(account => 'acct1');
my ($id2, $tok2) = $t->token(account => 'acct1');
my $upper = uc $tok2;
my ($id3, $tok3) = $t->token(account => 'acct1');

is($t->bearer('/api/x', $tok)->{status}, 200, 'a valid token: 200');
is($t->bearer('/loc/x', $tok)->{status}, 200,
   'a location with its own error_log: 200');
is($t->bearer('/plain/x', $tok)->{status}, 200,
   'a location without pit_auth: proxied');
is($t->bearer('/mem/x', $tok)->{status}, 200,
   'a location logging to memory, a file and stderr at once: 200');
is($t->get('/api/x', Authorization => "Bearer $tok",
           Authorization => "Bearer $tok2")->{status}, 400,
   'a duplicate Authorization header: 400 from nginx');
is($t->get("/api/x?a=1&access_token=$tok3&b=2")->{status}, 401,
   '?access_token= alone: 401');
is($t->get("/api/x?access_token=$tok3", Authorization => "Bearer $tok")
   ->{status}, 400, '?access_token= with a header: 400');
is($t->get('/api/x', Authorization => "Bearer $upper")->{status}, 401,
   'an uppercase token: malformed, 401');
# a header longer than nginx's 2 KB log line: tokens, one of them cut
is($t->bearer('/api/x', $tok, 'X-Junk' => join(' ', ($tok2) x 60))
   ->{status}, 200, 'a 2.5 KB header of tokens: 200');

SKIP: {
    my ($rc, $out) = PitTest::run_cmd(['curl', '-sS', '--http2-prior-knowledge',
        '-o', '/dev/null', '-w', '%{http_code}', '-H',
        "Authorization: Bearer $tok",
        "http://127.0.0.1:$h2/api/h2?access_token=$tok3"]);
    skip 'curl without HTTP/2', 1 if $rc == 1 || $out eq '';
    is($out, '400', 'HTTP/2: ?access_token= with a header: 400');
}

my @syslog;
my $sel = IO::Select->new($udp);
while ($sel->can_read(0.5)) {
    $udp->recv(my $d, 65536);
    push @syslog, $d;
}

$t->nginx->stop;

my %text = (syslog => join("\n", @syslog));
find({ no_chdir => 1, wanted => sub {
    return unless -f $_ && m{/logs/};
    $text{$_ =~ s{^\Q$dir\E/}{}r} = PitTest::slurp($_);
}}, $dir);

# any 8 characters of a token that its masked form does not show
my @secret;
for my $k ($tok, $tok2, $tok3) {
    my $body = lc substr($k, 8, 28);
    push @secret, map { substr($body, $_, 8) } 0 .. length($body) - 8;
}
my $secret_re = join '|', map { quotemeta } @secret;
$secret_re = qr/$secret_re/i;

for my $name (sort keys %text) {
    my @hits = grep { /$secret_re/ } split /\n/, $text{$name};
    is(scalar @hits, 0, "$name: no token, whole or in part")
        or diag(join "\n", map { substr($_, 0, 300) } @hits[0 .. 2]);
}

sub masked { my $k = shift; substr($k, 0, 8) . '\*{4}-\*{4}-\*{4}-\*{4}-\*{8}'
                            . substr($k, 36, 4) }
my ($m1, $m2, $m3) = map { masked($_) } $tok, $tok2, $tok3;
my $http = $text{'logs/http.log'};

like($http, qr/http header: "Authorization: Bearer $m1"/,
     'http.log: the Authorization header line, masked');
like($http, qr/\[info\].*duplicate header line: "Authorization: Bearer $m2"/,
     'http.log: the duplicate header line at info, masked');
like($http, qr/http request line: "GET \/api\/x\?a=1&access_token=$m3&b=2/,
     'http.log: the request line, masked');
like($http, qr/\[info\].*access_token in the query string ignored.*request: "GET \/api\/x\?a=1&access_token=$m3&b=2 HTTP/,
     'http.log: the module\'s own line, its request context masked');
like($http, qr/X-Junk: .*pit-\*{4,}/, 'http.log: a token cut at 2 KB, masked');
like($http, qr/"GET \/plain\/x HTTP.*\n(?:.*\n)*?.*Authorization: Bearer $m1/,
     'http.log: a location without pit_auth, masked');
like($text{'logs/location.log'} // '',
     qr/http proxy header: "Authorization: Bearer $m1"/,
     'a location-level error_log (the proxied header): masked');
like($http, qr/http header: "Authorization: Bearer PIT-\w{4}\*{4}/,
     'http.log: an uppercase token, masked');
like($text{'logs/mem.log'} // '', qr/http proxy header: "Authorization: Bearer $m1"/,
     'a chain of memory, file and stderr logs: the file masked');
like($text{'logs/stderr'} // '', qr/http proxy header: "Authorization: Bearer $m1"/,
     '... and stderr masked');
like($text{syslog}, qr/Authorization: Bearer $m1/,
     'an error_log to syslog (a writer of its own): masked');
like($text{'logs/full.log'},
     qr/^GET \/api\/x\?a=1&access_token=$m3&b=2 HTTP\/1\.1\|\/api\/x\?a=1&access_token=$m3&b=2\|a=1&access_token=$m3&b=2$/m,
     'access log: $request, $request_uri and $args masked');
like($text{'logs/full.log'}, qr/^GET \/api\/h2\?access_token=$m3 HTTP\/2\.0\|/m,
     'access log: an HTTP/2 request line, masked')
    if $text{'logs/full.log'} =~ /HTTP\/2/;
unlike($text{'logs/full.log'}, qr/\Q$tok\E/,
       'access log: the header token is never there');


done_testing();

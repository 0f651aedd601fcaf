#!/usr/bin/perl
# Logs name the status and the masked hint, never a token, at every level
# including debug.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use PitTest;
use PitModule;

my $t = PitModule->new(log_level => 'debug', timeout => '100ms 200ms',
                       server => <<'END');
        location /api/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
        location /w/ {
            pit_auth on;
            pit_auth_scope contacts.write;
            proxy_pass %%UP%%;
        }
END
my ($id, $tok) = $t->token(account => 'acct1');
my $unknown = 'pit-0123abcd-0000-4000-8000-00000000beef';
my $malformed = 'pit-0123abcd-0000-4000-8000-00000000beeZ';

$t->bearer('/api/x', $tok);
$t->bearer('/w/x', $tok);
$t->bearer('/api/x', $unknown);
$t->bearer('/api/x', $malformed);
$t->get('/api/x', Authorization => $tok);
$t->get("/api/x?access_token=$unknown");
$t->get("/api/x?access_token=$unknown", Authorization => "Bearer $tok");
kill 'STOP', $t->redis->pid;
$t->bearer('/api/x', $tok);
kill 'CONT', $t->redis->pid;

my @all = split /\n/, $t->error_log;
my @ours = grep { /pit_auth/ } @all;
cmp_ok(scalar @ours, '>=', 10, scalar(@ours) . ' module lines at debug');
my @leaks = grep { /\Q$tok\E|\Q$unknown\E|\Q$malformed\E|0123abcd-0000/ }
            @ours;
is(join("\n", @leaks), '', 'no module line holds a token, even at debug');
for my $st (qw(ok insufficient_scope invalid malformed missing unavailable)) {
    ok((grep { /pit_auth: $st\b/ } @ours), "status \"$st\" logged");
}
ok((grep { /pit-0123\*{4}-\*{4}-\*{4}-\*{4}beef/ } @ours),
   'the masked hint is logged');
ok((grep { /access_token in the query string ignored/ } @ours),
   'a query-string token is mentioned, not shown');

# nor does any line of nginx's own (request headers, request line at
# debug): the module's log writer masks them (module_log_redact.t)
is(join("\n", grep { /\Q$tok\E|\Q$unknown\E|0123abcd-0000/ } @all), '',
   'no line at all holds a token, nginx\'s debug lines included');
ok((grep { /http header: "Authorization: Bearer pit-0123\*{4}-\*{4}-\*{4}-\*{4}-\*{8}beef"/ } @all),
   'nginx\'s own header line shows the masked token');

done_testing();

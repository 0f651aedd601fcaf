#!/usr/bin/perl
# pit_auth_account with the account taken from the request (issue #5,
# part 7): from the path, by a regex location or by a map over $uri, and
# from the query string (pit_auth_account_arg locationId); beside pit_auth_openapi's
# scopes.  Another account's id gets 403 "The token does not have access
# to this location."

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use PitTest;
use PitModule;

my $data = PitTest::top() . '/tests/data/highlevel';

my $t = PitModule->new(http => <<'END', server => <<"END2");
    map $uri $path_location {
        ~^/conversations/locations/(?<l1>[^/]+)/            $l1;
        ~^/conversations/messages/[^/]+/locations/(?<l2>[^/]+)/  $l2;
        default                                             "";
    }
END
        add_header X-Status \$pit_auth_status always;
        location ~ ^/locations/(?<loc>[^/]+)(/|\$) {
            pit_auth on;
            pit_auth_scope locations.readonly;
            pit_auth_account \$loc;
            proxy_pass %%UP%%;
        }
        location /conversations/ {
            pit_auth on;
            pit_auth_openapi $data/conversations.json;
            pit_auth_account \$path_location;
            proxy_pass %%UP%%;
        }
        location /contacts/ {
            pit_auth on;
            pit_auth_openapi $data/contacts.json;
            pit_auth_account_arg locationId;
            proxy_pass %%UP%%;
        }
END2

my (undef, $tok) = $t->token(account => 'loc1', scopes => [
    'locations.readonly', 'contacts.readonly',
    'conversations/message.readonly']);

my $ACCOUNT = '{"statusCode":403,"message":"The token does not have access'
              . ' to this location.","error":"Forbidden"}';

sub check {
    my ($name, $path, $status, $st) = @_;
    my $r = $t->bearer($path, $tok);
    subtest $name => sub {
        is($r->{status}, $status, 'status');
        is(PitTest::HTTP::header($r, 'X-Status'), $st, '$pit_auth_status');
        if ($status == 403 && $st eq 'wrong_account') {
            is($r->{body}, "$ACCOUNT\n", 'body');
            is(PitTest::HTTP::header($r, 'WWW-Authenticate'), undef,
               'no WWW-Authenticate');
            unlike($r->{body}, qr/^uri=/m, 'the upstream saw nothing');
        }
        like($r->{body}, qr/^uri=/m, 'the upstream saw it')
            if $status == 200;
    };
}

# the path, by a regex location
check('path: own location', '/locations/loc1/customFields', 200, 'ok');
check('path: own location, no tail', '/locations/loc1', 200, 'ok');
check('path: another location', '/locations/loc2/customFields', 403,
      'wrong_account');
check('path: a prefix of the own id', '/locations/loc/customFields', 403,
      'wrong_account');
check('path: /../ cannot smuggle the own id (refused as ambiguous)',
      '/locations/loc1/../loc2/customFields', 400, 'ambiguous');

# the path, by a map, beside the spec's scopes
check('map: own location',
      '/conversations/locations/loc1/messages/m1/transcription', 200, 'ok');
check('map: another location',
      '/conversations/locations/loc2/messages/m1/transcription', 403,
      'wrong_account');
check('map: the other template',
      '/conversations/messages/m1/locations/loc1/recording', 200, 'ok');
check('map: the other template, another location',
      '/conversations/messages/m1/locations/loc9/recording', 403,
      'wrong_account');
check('map: no location in the path matches no token',
      '/conversations/messages/m1', 403, 'wrong_account');

# the query string
check('query: own location', '/contacts/?locationId=loc1', 200, 'ok');
check('query: another location', '/contacts/?locationId=loc2', 403,
      'wrong_account');
check('query: missing', '/contacts/', 403, 'wrong_account');
check('query: empty', '/contacts/?locationId=', 403, 'wrong_account');
check('query: own id and another: refused as ambiguous',
      '/contacts/?locationId=loc2&locationId=loc1', 400, 'ambiguous');
check('query: the route still needs its scope',
      '/contacts/c1/tasks?locationId=loc1', 200, 'ok');

my (undef, $other) = $t->token(account => 'loc2', scopes => ['contacts.write']);
my $r = $t->bearer('/contacts/c1/tasks?locationId=loc2', $other);
is($r->{status}, 403, 'the scope is checked before the account');
is(PitTest::HTTP::header($r, 'X-Status'), 'insufficient_scope',
   '... insufficient_scope');


done_testing();

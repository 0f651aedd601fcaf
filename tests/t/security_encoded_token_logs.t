#!/usr/bin/perl
# Security review, finding 6: tokens in logs under spellings the masking
# missed.  "?access%5Ftoken=" (and every other spelling an upstream reads
# as access_token: case, %XX, [], '.', '+', ';' separator) beside an
# Authorization header is refused with 400 like ?access_token= is; and no
# log (access log with $request, $request_uri and $args; error logs at
# info and at debug) may hold 8 consecutive hex digits of a token's secret
# middle, whatever the token looks like: percent-encoded dashes or letters
# in the query, or in an Authorization header with '_', '.', ' ' for the
# dashes, no dashes at all, or split by one blank.

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use File::Find;
use PitTest;
use PitModule;

# the echo upstream (a server block of the same nginx) keeps no access log:
# the front server's logs are the ones under test
my $t = PitModule->new(log_level => 'debug', up_extra => 'access_log off;',
    http => <<'END',
    error_log %%DIR%%/logs/http_info.log info;
    error_log %%DIR%%/logs/http_debug.log debug;
    log_format full '$request|$request_uri|$args';
END
    server => <<'END');
        access_log %%DIR%%/logs/full.log full;
        add_header X-Status $pit_auth_status always;
        location /api/ {
            pit_auth on;
            pit_auth_scope contacts.readonly;
            proxy_pass %%UP%%;
        }
END
my $dir = $t->nginx->dir;

my (undef, $valid) = $t->token(account => 'acct1');
my %secret_of;     # variant name => token
sub fresh {
    my ($name) = @_;
    my (undef, $tok) = $t->token(account => 'acct1');
    $secret_of{$name} = $tok;
    return $tok;
}
sub enc_dashes { my ($k, $e) = @_; return $k =~ s/-/$e/gr }

# ?access_token under other spellings, with a header: 400
my @names = ('access%5Ftoken', 'access%5ftoken', 'Access_Token',
             'ACCESS_TOKEN', 'access_token[]', 'access_token%5B%5D',
             'access_token[0]', 'access.token', 'access+token',
             'access%20token', 'access%2Etoken', '%61ccess_token');
for my $n (@names) {
    my $tok = fresh("query name $n");
    my $r = $t->get("/api/x?a=1&$n=$tok", Authorization => "Bearer $valid");
    is($r->{status}, 400, "?$n= beside an Authorization header: 400");
}
{
    my $tok = fresh('query name after ";"');
    my $r = $t->get("/api/x?a=1;access_token=$tok",
                    Authorization => "Bearer $valid");
    is($r->{status}, 400, '";access_token=" beside an Authorization header: 400');
}
{
    my $tok = fresh('query name access%5Ftoken, no header');
    my $r = $t->get("/api/x?access%5Ftoken=$tok");
    is($r->{status}, 401, '?access%5Ftoken= alone is no credential: 401');
}

# tokens as ?access_token= values under encodings the masking must see
# through (alone: 401; beside a header: 400)
my %query = (
    'query value, plain (baseline, masked already)' => sub { $_[0] },
    'query value, dashes %2D' => sub { enc_dashes($_[0], '%2D') },
    'query value, dashes %2d' => sub { enc_dashes($_[0], '%2d') },
    'query value, %70it-'     => sub { '%70' . substr($_[0], 1) },
    'query value, %70%69%74%2D and %2D' =>
        sub { '%70%69%74' . enc_dashes(substr($_[0], 3), '%2D') },
    'query value, letters a-f encoded' =>
        sub { 'pit-' . (substr($_[0], 4) =~ s/([a-f])/sprintf('%%%02X', ord $1)/ger) },
);
for my $name (sort keys %query) {
    my $tok = fresh($name);
    my $v = $query{$name}->($tok);
    $t->get("/api/x?access_token=$v");
    $t->get("/api/x?access_token=$v", Authorization => "Bearer $valid");
    $t->get("/api/x?a=1&access_token=$v&b=2",
            Authorization => "Bearer $valid");
}

# tokens in an Authorization header, not quite in the token's shape
my %header = (
    'header, "_" for dashes' => sub { enc_dashes($_[0], '_') },
    'header, "." for dashes' => sub { enc_dashes($_[0], '.') },
    'header, " " for dashes' => sub { enc_dashes($_[0], ' ') },
    'header, no dashes'      => sub { enc_dashes($_[0], '') },
    'header, split by one blank' => sub { substr($_[0], 0, 20) . ' '
                                          . substr($_[0], 20) },
    'header, %2D for dashes' => sub { enc_dashes($_[0], '%2D') },
);
for my $name (sort keys %header) {
    my $tok = fresh($name);
    my $v = $header{$name}->($tok);
    $t->get('/api/x', Authorization => "Bearer $v");
    $t->get('/api/x', Authorization => $v);
}

$t->nginx->stop;

my %text;
find({ no_chdir => 1, wanted => sub {
    return unless -f $_ && m{/logs/};
    $text{$_ =~ s{^\Q$dir\E/}{}r} = PitTest::slurp($_);
}}, $dir);

# the logs were written at the levels asked for
like($text{'logs/full.log'} // '', qr/^GET \/api\/x\?/m,
     'the access log has the request lines');
like($text{'logs/http_debug.log'} // '', qr/http header: "Authorization: /,
     'the debug log has the header lines');
like($text{'logs/http_info.log'} // '', qr/\[info\]/,
     'the info log has lines');

# 8 consecutive hex digits of a token's secret middle (between the four
# digits the hint shows after "pit-" and the last four)
sub windows {
    my ($tok) = @_;
    my $hex = substr($tok, 8, 28) =~ s/-//gr;
    return map { substr($hex, $_, 8) } 0 .. length($hex) - 8;
}
for my $name (sort keys %secret_of) {
    my $re = join '|', windows($secret_of{$name});
    $re = qr/$re/i;
    my @where;
    for my $file (sort keys %text) {
        my @hits = grep { /$re/ } split /\n/, $text{$file};
        push @where, "$file: " . substr($hits[0], 0, 240) if @hits;
    }
    is(scalar @where, 0, "$name: no 8 hex digits of the secret in any log")
        or diag(join "\n", @where);
}

is(join("\n", grep { /\[(alert|crit|emerg)\]/ } map { split /\n/ }
            @text{grep { !/full/ } keys %text}), '',
   'no [alert], [crit] or [emerg]');

done_testing();

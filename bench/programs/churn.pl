# vedalloc bench — prog:perl: hash, string and regex churn, run as
# `/usr/bin/perl churn.pl` under every allocator. Debian's perl uses the
# system malloc (usemymalloc=n), so every SV body, hash bucket array and
# string buffer comes from the allocator under test. Deterministic: its own
# LCG, PERL_HASH_SEED=0 and PERL_PERTURB_KEYS=0 from the driver, and
# everything printed is sorted, so stdout is identical under every allocator.
use strict;
use warnings;

my $seed = 42;
sub rnd { $seed = ($seed * 1103515245 + 12345) % 2147483648; return $seed; }

my (%count, %index, @lines);
for my $i (1 .. 40000) {
    my $word = join '', map { chr(97 + rnd() % 12) } 1 .. (2 + rnd() % 9);
    $count{$word}++;
    push @{ $index{ substr($word, 0, 2) } }, $i;
    push @lines, sprintf("%s %d %s", $word, rnd() % 1000, 'x' x (rnd() % 40));
    delete $count{$word} if $count{$word} > 30;
}
my $total = 0;
for my $line (@lines) {
    (my $t = $line) =~ s/(\w+) (\d+)/$2:\U$1/;
    $total += length $t;
    $total++ if $t =~ /^\d+:[A-F]+/;
}
my @sorted = sort { $count{$b} <=> $count{$a} || $a cmp $b } keys %count;
print "words ", scalar(keys %count), " total $total\n";
print join(' ', @sorted[0 .. 19]), "\n";
for my $k (sort keys %index) { print "$k ", scalar(@{ $index{$k} }), "\n" if rnd() % 7 == 0 }
my %h2;
for my $round (1 .. 4) {
    %h2 = map { ($_ . $round => [ split //, $_ ]) } @sorted;
    my $n = 0;
    $n += @{ $h2{$_} } for keys %h2;
    print "round $round $n\n";
}
my @by = sort { (split / /, $a)[1] <=> (split / /, $b)[1] || $a cmp $b } @lines[0 .. 14999];
print "$by[0]\n$by[-1]\n";

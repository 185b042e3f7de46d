#!/usr/bin/env perl
# Prints each line of the given Rust files that names the network, the file system or the
# clock outside a string literal (the generators write programs that use tokio), string literals
# continued over several lines included. Used by scripts/test.sh for the decision crates.
use strict;
use warnings;

for my $file (@ARGV) {
    open(my $fh, '<', $file) or die "cannot read $file: $!";
    local $/;
    my $src = <$fh>;
    close $fh;
    # Each literal becomes "" followed by as many line breaks as it spanned, so line numbers hold.
    $src =~ s{"(?:[^"\\]|\\.)*"}{ '""' . ("\n" x ($& =~ tr/\n//)) }gse;
    my $n = 0;
    for my $line (split /\n/, $src, -1) {
        $n++;
        print "$file:$n: $line\n" if $line =~ /std::(net|fs)|tokio|SystemTime|Instant::now/;
    }
}

#!/bin/sh
# Archives are made here rather than committed as binaries.
mkdir -p src/inner && echo one > src/one.txt && echo two > src/inner/two.txt && chmod 750 src/inner
tar --owner=5 --group=6 --numeric-owner --mtime=@1600000000 -C src -cf archive.tar .
gzip -n -c archive.tar > archive.tar.gz
bzip2 -c archive.tar > archive.tar.bz2
xz -c archive.tar > archive.tar.xz
rm -rf src

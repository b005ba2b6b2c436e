#!/bin/sh
# git does not keep hard links: make them in the context copy.
ln one.txt two.txt

src/gen/out.c

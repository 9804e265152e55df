#!/bin/sh
# build.sh - build (and run) the libFuzzer targets listed in targets.list with clang.
# usage: build.sh build SRCDIR OUTDIR | build.sh run SRCDIR OUTDIR SECONDS
set -eu
mode=$1 src=$2 out=$3 secs=${4:-60}
CLANG=${CLANG:-clang}
mkdir -p "$out"
grep -v '^#' "$src/tests/fuzz/targets.list" | while IFS='|' read -r name sources libs; do
	name=$(echo "$name" | tr -d ' ')
	[ -n "$name" ] || continue
	if [ "$mode" = build ]; then
		files=""
		for s in $sources; do files="$files $src/$s"; done
		flags=""
		for l in $libs; do
			case $l in -*) flags="$flags $l" ;; *) flags="$flags $(pkg-config --cflags --libs "$l")" ;; esac
		done
		echo "  FUZZ     $name"
		# shellcheck disable=SC2086
		$CLANG -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DSYSCONFDIR='"/etc"' -DLOCALSTATEDIR='"/var"' -DPKGLIBDIR='"/usr/lib/postern"' \
			-I"$src/lib" -I"$src/include" -I"$src/policies" -I"$out/../.." -I"$src" \
			$files -o "$out/$name" $flags -lpthread
	else
		corpus="$out/corpus-$name"
		mkdir -p "$corpus"
		seeds="$src/tests/fuzz/corpus/${name#fuzz_}"
		echo "== $name for ${secs}s"
		"$out/$name" -max_total_time="$secs" -rss_limit_mb=2048 "$corpus" "$seeds" 2>&1 | tail -n 5
	fi
done

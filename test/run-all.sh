#!/usr/bin/env bash
# Every test, phase by phase, with the time of each phase and one closing line "N passed, N failed".
# Phases: typecheck, provision (the lab's kernels and 7.x sources, cached: seconds when warm; the unit
# phase checks the family tables against those uapi headers), unit, integration (netns), e2e (Chromium,
# netns), lab (qemu VMs with Linux 7.2), lab-ui (Chromium on the host against sascope in a lab VM).
# SASCOPE_PHASES="unit integration" runs a subset (locally). Under CI=true every phase runs and a
# missing prerequisite is a failure, never a skip.
set -uo pipefail
cd "$(dirname "$0")/.."
phases=${SASCOPE_PHASES:-"typecheck provision unit integration e2e lab lab-ui"}
if [ -n "${CI:-}" ] && [ "$phases" != "typecheck provision unit integration e2e lab lab-ui" ]; then
  echo "run-all: CI=true runs every phase; SASCOPE_PHASES is ignored" >&2
  phases="typecheck provision unit integration e2e lab lab-ui"
fi
logdir=$(mktemp -d)
# Lab files CI runs (stems of test/lab/tests/<name>.<debian|custom|any|both>.test.ts, space-separated):
# add yours once every test in it was seen passing in a VM run.
LAB_VERIFIED="selftest.debian crypto.debian xfrm-faults.debian selftest.custom selftest.any psp.custom offload.custom reliability-faults.debian reliability-privilege.debian pfkey.debian crypto.custom ovpn.any reliability-keyleak.debian tunnels.debian xfrm.debian reliability-storm.debian vici.debian package.debian wireguard.both wireguard-serve.any fleet.debian vici-console.debian"
passed=0; failed=0; summary=()
count() { # node:test (spec or tap) and playwright closing lines
  local log=$1 p f
  p=$(grep -aE '^(ℹ |# )pass [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
  f=$(grep -aE '^(ℹ |# )fail [0-9]+' "$log" | awk '{s+=$NF} END {print s+0}')
  local pw; pw=$(grep -aE '^\s+[0-9]+ passed' "$log" | awk '{s+=$1} END {print s+0}')
  local pwf; pwf=$(grep -aE '^\s+[0-9]+ failed' "$log" | awk '{s+=$1} END {print s+0}')
  echo $((p + pw)) $((f + pwf))
}
run_phase() {
  local name=$1; shift
  local log="$logdir/$name.log" t0 rc
  printf '\n===== phase %s: %s\n' "$name" "$*"
  t0=$(date +%s)
  "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  local dt=$(( $(date +%s) - t0 ))
  read -r p f < <(count "$log")
  if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi # a phase that failed outside a test counts as one failure
  if [ "$name" = typecheck ] || [ "$name" = provision ]; then [ "$rc" = 0 ] && p=1 || f=1; fi
  passed=$((passed + p)); failed=$((failed + f))
  summary+=("$(printf '%-12s %4ss  exit %-3s %5s passed %5s failed' "$name" "$dt" "$rc" "$p" "$f")")
}
for ph in $phases; do
  case "$ph" in
    typecheck) run_phase typecheck npx tsc --noEmit -p tsconfig.json ;;
    provision) run_phase provision npm run -s lab -- provision --kernel all ;;
    unit) run_phase unit npm run -s test:unit ;;
    integration) run_phase integration npm run -s test:integration ;;
    e2e) run_phase e2e npm run -s test:e2e ;;
    lab)
      # The lab files seen green on the real kernels (LAB_VERIFIED, stems <name>.<debian|custom|any|both>),
      # both kernels as `npm run test:lab` runs them: one Debian VM and one custom VM in parallel, an
      # `any` file in the custom VM. The others are printed, not hidden: written but not yet seen
      # passing, they are run by hand with `npm run test:lab -- --kernel <k> <name>` until they are.
      # CI must not shrink silently: under CI=true a file not in the list (or a stem naming no file)
      # is a failure of its own, and the listed files still run.
      lab_files=(); lab_unknown=(); lab_not=()
      for stem in $LAB_VERIFIED; do
        if [ -f "test/lab/tests/$stem.test.ts" ]; then lab_files+=("/$stem.test.ts"); else lab_unknown+=("$stem"); fi
      done
      for f in test/lab/tests/*.test.ts; do
        stem=$(basename "$f" .test.ts)
        case " $LAB_VERIFIED " in *" $stem "*) ;; *) lab_not+=("$stem") ;; esac
      done
      echo "lab: in this run: $LAB_VERIFIED"
      # package.debian installs the Debian package and upgrades it: two versions, built here on the host.
      case " $LAB_VERIFIED " in *" package.debian "*)
        run_phase package bash -c 'rm -rf dist/out && npm run -s package -- --out dist/out && SASCOPE_DEB_VERSION_SUFFIX=+lab1 npm run -s package -- --out dist/out' ;;
      esac
      echo "lab: NOT in this run (not yet verified in the lab): ${lab_not[*]}"
      # --timeout: the Debian VM runs its files one after another (~45 min under load with these; the whole CI must stay within 90).
      # (no files: the lab runner with no filter would run every file)
      [ ${#lab_files[@]} -gt 0 ] && run_phase lab npm run -s test:lab -- --kernel all --timeout 5400 "${lab_files[@]}"
      lab_list=()
      [ ${#lab_unknown[@]} -gt 0 ] && lab_list+=("LAB_VERIFIED names no file test/lab/tests/<stem>.test.ts for: ${lab_unknown[*]}")
      [ -n "${CI:-}" ] && [ ${#lab_not[@]} -gt 0 ] && lab_list+=("CI=true: lab test files not in LAB_VERIFIED (see them pass in a VM and add them): ${lab_not[*]}")
      if [ ${#lab_list[@]} -gt 0 ]; then
        run_phase lab-list bash -c 'printf "lab: %s\n" "$@"; exit 1' - "${lab_list[@]}"
      fi ;;
    lab-ui) run_phase lab-ui npm run -s test:lab-ui ;;
    *) echo "run-all: unknown phase $ph" >&2; failed=$((failed + 1)) ;;
  esac
done
printf '\n===== summary\n'
printf '%s\n' "${summary[@]}"
rm -rf "$logdir"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]

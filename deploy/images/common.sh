# Shared by deploy/images/build and deploy/images/smoke (sourced, not run).

images_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd "$images_dir/../.." && pwd)"

# The project version from the root pom (its first <version> is the project's own).
project_version() {
  sed -n 's:^  <version>\(.*\)</version>.*:\1:p' "$repo_root/pom.xml" | head -n 1
}

# podman with the settings that work on machines without systemd or cgroup v2 delegation: runc
# (crun cannot set rlimits or use hybrid cgroups there), cgroupfs, and our containers.conf.
# TRANCHE_PODMAN_ARGS replaces them where the defaults work (e.g. TRANCHE_PODMAN_ARGS=" ").
podman_args=()
read -r -a podman_args <<< "${TRANCHE_PODMAN_ARGS:---runtime runc --cgroup-manager cgroupfs}"
podman_cmd=(env CONTAINERS_CONF="${CONTAINERS_CONF:-$images_dir/containers.conf}" podman "${podman_args[@]}")
podman_() { "${podman_cmd[@]}" "$@"; }

now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

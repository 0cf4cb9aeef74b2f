#!/usr/bin/env bash
# Build the image, tag it, log in to ECR and push it (the original system's Script-BuildDocker-Sagemaker).
# Nothing is hard-coded: repository, region, account and tag come from the arguments or the environment.
set -euo pipefail

usage() {
    cat <<'USAGE'
usage: scripts/build_and_push.sh --repository NAME --region REGION [--account ID] [--tag TAG] [--engine ENGINE]
                                 [--dry-run]

  --repository NAME  ECR repository, created (scan on push) if missing   [env ECR_REPOSITORY]
  --region REGION    AWS region                                          [env AWS_REGION, AWS_DEFAULT_REGION]
  --account ID       12-digit registry account (default: the caller's)   [env AWS_ACCOUNT_ID]
  --tag TAG          image tag (default: the git commit, else "latest")  [env IMAGE_TAG]
  --engine ENGINE    docker or podman (default: docker if installed)     [env CONTAINER_ENGINE]
  --dry-run          look up/create the repository, print the build/login/push commands instead of running them

Extra `build` options (e.g. --pull=never, --platform linux/amd64) can be given in CONTAINER_BUILD_OPTS.
Prints the pushed image URI (use it as `python -m deploy deploy --image URI`).
USAGE
}

die() {
    echo "build_and_push.sh: error: $*" >&2
    echo "run scripts/build_and_push.sh --help for usage" >&2
    exit 2
}

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repository="${ECR_REPOSITORY:-}"
region="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
account="${AWS_ACCOUNT_ID:-}"
tag="${IMAGE_TAG:-}"
engine="${CONTAINER_ENGINE:-}"
dry_run=0

while (($#)); do
    case "$1" in
        --repository | --region | --account | --tag | --engine)
            if (($# < 2)) || [[ "$2" == -* ]]; then die "$1 needs a value"; fi
            case "$1" in
                --repository) repository="$2" ;;
                --region) region="$2" ;;
                --account) account="$2" ;;
                --tag) tag="$2" ;;
                --engine) engine="$2" ;;
            esac
            shift 2
            ;;
        --dry-run) dry_run=1 && shift ;;
        -h | --help) usage && exit 0 ;;
        *) die "unknown argument: $1" ;;
    esac
done

[[ -n "$repository" ]] || die "no repository: pass --repository NAME or set ECR_REPOSITORY"
[[ "$repository" =~ ^[a-z0-9]+([._/-][a-z0-9]+)*$ ]] ||
    die "repository '$repository' is not an ECR repository name (lower-case letters, digits, . _ - /)"
[[ -n "$region" ]] || die "no region: pass --region REGION or set AWS_REGION"
[[ "$region" =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || die "region '$region' is not an AWS region such as us-east-1"
[[ -z "$account" || "$account" =~ ^[0-9]{12}$ ]] || die "account '$account' is not a 12-digit AWS account id"
if [[ -z "$tag" ]]; then
    tag="$(git -C "$repo_root" rev-parse --short=12 HEAD 2>/dev/null || echo latest)"
fi
[[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "tag '$tag' is not a valid image tag"
if [[ -z "$engine" ]]; then
    engine="$(command -v docker >/dev/null 2>&1 && echo docker || echo podman)"
fi
((dry_run)) || command -v "$engine" >/dev/null 2>&1 || die "container engine '$engine' not found"

python="${PYTHON:-$repo_root/.venv/bin/python}"
[[ -x "$python" ]] || python="$(command -v python3)"
deploy() { (cd "$repo_root" && "$python" -m deploy --region "$region" "$@"); }

run() {
    if ((dry_run)); then
        echo "+ $*"
    else
        "$@"
    fi
}

# The repository first: a bad region, account or credentials fail here, before a long build.
uri="$(deploy ecr-repository --name "$repository" ${account:+--account "$account"})" || exit 1
registry="${uri%%/*}"
local_image="$repository:$tag"

# shellcheck disable=SC2086  # CONTAINER_BUILD_OPTS is a list of options, split on purpose
run "$engine" build ${CONTAINER_BUILD_OPTS:-} --tag "$local_image" "$repo_root" >&2
if ((dry_run)); then
    echo "+ $python -m deploy --region $region ecr-login | $engine login --username AWS --password-stdin $registry" >&2
else
    deploy ecr-login | "$engine" login --username AWS --password-stdin "$registry" >&2
fi
run "$engine" tag "$local_image" "$uri:$tag" >&2
run "$engine" push "$uri:$tag" >&2
echo "$uri:$tag"

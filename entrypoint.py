"""Container entry point: `serve` (SageMaker hosting and batch transform), `train` (SageMaker training),
`transform` (a local batch transform job against a running server)."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="entrypoint.py", description="Approval-odds model container.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{serve,train,transform}")
    commands.add_parser("serve", help="serve the model on SAGEMAKER_BIND_TO_PORT (default 8080) through MMS")
    commands.add_parser("train", help="train a model by SageMaker's training contract (/opt/ml)")
    commands.add_parser("transform", help="run a local batch transform job against a running server", add_help=False)
    args, rest = parser.parse_known_args(argv)
    if args.command == "serve":
        if rest:
            parser.error(f"serve takes no arguments, got {' '.join(rest)}")
        return _serve()
    if args.command == "transform":
        from batch.runner import main as transform

        return transform(rest)
    from training.train import main as train

    return train(rest)


def _serve() -> int:
    import config
    from serving.launcher import serve

    try:
        settings = config.load()
    except config.SettingsError as error:
        print(f"approval-odds: invalid configuration: {error}", file=sys.stderr)
        return 1
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

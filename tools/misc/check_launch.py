"""Checks before a multi-process launch: enough GPUs, and a free master port."""
import argparse
import socket
import sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--nproc', type=int, required=True)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--node-rank', type=int, default=0)
    args = parser.parse_args()
    import torch
    if args.nproc < 1:
        sys.exit(f'error: the number of processes must be >= 1, got {args.nproc}')
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    if gpus and args.nproc > gpus:
        sys.exit(f'error: {args.nproc} processes asked for, but this machine has {gpus} GPU(s). '
                 f'Use at most {gpus} per node, or '
                 'set NNODES/NODE_RANK/MASTER_ADDR to spread over several nodes.')
    if not gpus:
        print(f'[dist] no CUDA device: running {args.nproc} CPU processes with the gloo backend',
              file=sys.stderr)
    if args.node_rank == 0:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(('', args.port))
            except OSError:
                sys.exit(f'error: port {args.port} is already in use (another training job?). '
                         'Choose another: PORT=29501 bash tools/dist_train.sh ...')


if __name__ == '__main__':
    main()

"""check-random.py — engine vs PyTorch on an untrained model with amplified weights (x6), so
attention, RoPE, windows and positions all matter: image embeddings (cosine) for the full and
half image, last-prompt logits and 16 greedy tokens for --policy adaptive and full.
Run from the repository root: /usr/bin/python3 tools/demo/check-random.py"""
import sys, os, subprocess, numpy as np, torch, tempfile
sys.path.insert(0, 'tools/demo')
import world
from model import *
from export import export
from check import round_f16
torch.manual_seed(5); torch.set_num_threads(1)
m = DemoVLM(Config()); m.eval()
with torch.no_grad():
    for n, p in m.named_parameters():
        if p.dim() >= 2: p.mul_(6.0)            # make attention/rope/windows matter
        elif 'bias' in n: p.normal_(0, 0.1)
        else: p.normal_(1, 0.2)
round_f16(m)
tmp = tempfile.mkdtemp(); export(m, tmp + '/m', 'f16', 'build/tools/squint-demo-export')
s = world.World(77).sample(0, kind='b'); s['image'].save(tmp + '/x.png')
for pol, img in (('full', s['image']), ('low', world.half_image(s['image']))):
    subprocess.run(['build/ui/term/squint-cli', 'run', '-m', tmp + '/m-text.gguf', '--mmproj', tmp + '/m-mmproj.gguf', '--image', tmp + '/x.png',
                    '-p', 'hi', '--policy', pol, '-q', '-n', '1', '-t', '1', '--dump-image-embd', tmp + '/e'], check=True, capture_output=True)
    e = np.fromfile(tmp + '/e', dtype='<f4').reshape(-1, 192)
    with torch.no_grad(): t = m.vision(pixels_of(img)[None])[0].numpy()
    cos = (e * t).sum(1) / np.linalg.norm(e, axis=1) / np.linalg.norm(t, axis=1)
    print(pol, e.shape, 'max|diff|', np.abs(e - t).max(), 'scale', np.abs(t).max(), 'min cos', cos.min())
from train import Prompts
from vocab import Vocab
from check import torch_answer
import json
pr = Prompts(Vocab())
for pol in ('adaptive', 'full'):
    r = subprocess.run(['build/ui/term/squint-cli', 'run', '-m', tmp + '/m-text.gguf', '--mmproj', tmp + '/m-mmproj.gguf', '--image', tmp + '/x.png',
                    '-p', s['question'], '--policy', pol, '-q', '--json', '--kv-f32', '-n', '16', '-t', '1', '--dump-logits', tmp + '/l'], check=True, capture_output=True, text=True)
    js = json.loads(r.stdout.strip().splitlines()[-1])
    ids, lg = torch_answer(m, pr, s['image'], s['question'], pol, 16)
    e = np.fromfile(tmp + '/l', dtype='<f4')
    print(pol, 'logits max|diff|', np.abs(e - lg.numpy()).max(), 'range', float(lg.max() - lg.min()), 'tokens identical', js['generated_ids'] == ids, ids[:16])

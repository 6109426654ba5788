#!/usr/bin/env python3
"""Rebuilds torchvision models under the fixtures' reference init with the installed PyTorch (Debian's
python3-torch) and prints how far its float32 and float64 outputs are from the parity fixture.
Shows whether a fixture is reproducible across torch versions at all. Usage:
/usr/bin/python3 scripts/torch_reference_check.py efficientnet_v2_s efficientnet_b0"""
import os, sys, json, struct, numpy as np, torch, torchvision
SHARED = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'shared', 'fixtures')
sys.path.insert(0, os.path.join(SHARED, 'generator'))
from refinit import ref_value, ref_input
torch.set_num_threads(1)
def read(path):
    f=open(path,'rb'); n=struct.unpack('<Q',f.read(8))[0]; h=json.loads(f.read(n)); base=8+n
    data=open(path,'rb').read()
    out={}
    for k,v in h.items():
        if k=='__metadata__': continue
        a,b=v['data_offsets']; out[k]=np.frombuffer(data[base+a:base+b],dtype=np.float32).reshape(v['shape'])
    return out, json.loads(h['__metadata__']['meta'])
for name in sys.argv[1:]:
    t, meta = read(os.path.join(SHARED, 'parity', f'tv__{name}.safetensors'))
    m = getattr(torchvision.models, name)(num_classes=1000).eval()
    sd = m.state_dict()
    for k,v in sd.items():
        if v.dtype.is_floating_point:
            sd[k] = torch.from_numpy(ref_value(k, tuple(v.shape)).copy())
    m.load_state_dict(sd)
    x = torch.from_numpy(ref_input((2,)+tuple(meta['input_size']), meta['input_seed']).copy())
    with torch.no_grad():
        y32 = m(x).numpy()
        y64 = m.double()(x.double()).numpy()
    ref = t['logits']
    rel = lambda a: np.abs(a-ref).max()/np.abs(ref).max()
    print(name, 'torch', torch.__version__, 'f32 vs fixture', rel(y32), 'f64 vs fixture', rel(y64), 'max|ref|', np.abs(ref).max())

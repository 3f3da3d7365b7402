# A PyTorch prototype of the built-in concat model (3 conv blocks 16/32/64 with
# max-pooling, the 8x8 grid flattened and projected to 64, an embedding + GRU
# question encoder mean-pooled, concat or product fusion, a one-hidden-layer
# head; He initialisation, Adam) on variants of shapes-vqa, written to find a
# variant of the task that concat learns on 2 CPU cores before changing the C++
# generator. Prints validation accuracy per question type after each epoch.
# Findings: docs/zoo_accuracy.md. Needs Debian's python3-torch:
#   /usr/bin/python3 bench/shapes_prototype.py --colors 4 --objects 4 --slots 4 --qps 1
# --slots N: objects sit in an N x N grid of cells (jittered by +-jitter px)
# instead of anywhere off the midline band; --r2: squared radius of a circle
# (30: 11 px across, like the square); --qps: questions per scene; --encoder
# coord: x and y coordinate channels appended to the image and the grid read out
# by max and mean over cells instead of the flattened projection.
# --encoder spp (2026-12-02, the one that learns; /tmp/shapes_findings.md): conv
# body 3->16->32->64 (3x3, pad 1, ReLU) with max-pooling after the first two
# only, so a 16x16x64 grid; per channel the max over the grid, the mean over the
# grid and the max over each 2x2 quadrant (adaptive_max_pool2d(g, 2)) -> 6*64 =
# 384 numbers -> Linear(384, 64) -> ReLU (He init throughout). --spp4 adds the
# 4x4 level (worse). --bn: batch norm after each conv.
# --encoder keypoints: the same body, then a spatial softmax per channel
# (Levine et al. 2016; --temp: initial learnable inverse temperature) giving
# expected (x, y), plus per-channel max and mean -> Linear(4*64, 64) -> ReLU.
# --pools, --ch, --color1x1 N (a 1x1 conv 3->N first), --kpcoord, --kpin pre:
# variants of the body. --fresh: new training scenes every epoch (about 1.5 s
# for 12,000); --budget S: stop starting epochs after S seconds.
# Recipe that learns: --colors 4 --objects 4 --slots 4 --qps 1 --r2 16
#   --encoder spp --head 256 --lr 1e-3 --fusion concat|product
import sys, time, random, torch, torch.nn as nn, torch.nn.functional as F
import argparse
p = argparse.ArgumentParser()
p.add_argument('--colors', type=int, default=6); p.add_argument('--objects', type=int, default=5)
p.add_argument('--margin', type=int, default=2); p.add_argument('--types', default='shape,left,top,count')
p.add_argument('--train', type=int, default=12000); p.add_argument('--epochs', type=int, default=10)
p.add_argument('--qps', type=int, default=3); p.add_argument('--seed', type=int, default=1)
p.add_argument('--fusion', default='concat'); p.add_argument('--slots', type=int, default=0); p.add_argument('--head', type=int, default=64); p.add_argument('--lr', type=float, default=5e-4); p.add_argument('--r2', type=int, default=30); p.add_argument('--jitter', type=int, default=2); p.add_argument('--encoder', default='flat')
p.add_argument('--pools', type=int, default=2); p.add_argument('--ch', type=int, default=64)
p.add_argument('--color1x1', type=int, default=0); p.add_argument('--bn', action='store_true')
p.add_argument('--kpcoord', action='store_true'); p.add_argument('--fresh', action='store_true')
p.add_argument('--budget', type=float, default=1e9); p.add_argument('--temp', type=float, default=1.0)
p.add_argument('--kpin', default='post'); p.add_argument('--spp4', action='store_true')
a = p.parse_args()
torch.set_num_threads(1); rng = random.Random(a.seed); torch.manual_seed(a.seed)
S, H = 64, 5
COL = [(255,0,0),(0,200,0),(0,0,255),(255,255,0),(255,0,255),(0,255,255)][:a.colors]
types = a.types.split(',')
def coord():
    while True:
        v = rng.randrange(H, S-H); 
        if v < 32 - a.margin or v >= 32 + a.margin: return v
def scene_slots():
    cols = rng.sample(range(a.colors), a.objects); n = a.slots; w = S // n
    cells = rng.sample(range(n*n), a.objects)
    objs = [(cols[i], rng.random()<0.5, (cells[i]%n)*w + w//2 + rng.randint(-a.jitter, a.jitter), (cells[i]//n)*w + w//2 + rng.randint(-a.jitter, a.jitter)) for i in range(a.objects)]
    return objs, rng.random()<0.5
def scene():
    if a.slots: return scene_slots()
    cols = rng.sample(range(a.colors), a.objects)
    while True:
        objs=[]; ok=True
        for i in range(a.objects):
            for t in range(200):
                x,y=coord(),coord()
                if all(max(abs(x-o[2]),abs(y-o[3]))>=2*H+2 for o in objs): objs.append((cols[i], rng.random()<0.5, x, y)); break
            else: ok=False; break
        if ok: return objs, rng.random()<0.5
def render(sc):
    objs, grey = sc
    im = torch.full((3,S,S), 90 if grey else 0, dtype=torch.uint8)
    r=torch.arange(-H,H+1); yy,xx=torch.meshgrid(r,r,indexing='ij'); circ = xx*xx+yy*yy<=a.r2
    for c,sq,x,y in objs:
        m = torch.ones_like(circ) if sq else circ
        for ch in range(3): im[ch, y-H:y+H+1, x-H:x+H+1][m] = COL[c][ch]
    return im
# classes: no yes circle square 1..5
def answer(sc, t, c):
    objs,_=sc; ref=[o for o in objs if o[0]==c][0]
    if t=='shape': return 3 if ref[1] else 2
    if t=='left': return 1 if ref[2]<32 else 0
    if t=='top': return 1 if ref[3]<32 else 0
    if t=='count': return 4 + sum(1 for o in objs if o[1]==ref[1]) - 1
vocab = {}
def toks(t, c):
    cn = ['red','green','blue','yellow','magenta','cyan'][c]
    txt = {'shape': f'what shape is the {cn} object', 'left': f'is the {cn} object on the left',
           'top': f'is the {cn} object at the top', 'count': f'how many objects have the shape of the {cn} object'}[t]
    ids = [vocab.setdefault(w, len(vocab)+1) for w in txt.split()]
    return ids + [0]*(12-len(ids))
def make(n):
    ims=[]; sidx=[]; T=[]; Y=[]; global TY; TY=[]
    while len(Y) < n:
        sc = scene(); ims.append(render(sc)); cs = [o[0] for o in sc[0]]; rng.shuffle(cs)
        for q in range(a.qps):
            t = types[rng.randrange(len(types))]; c = cs[q % len(cs)]
            sidx.append(len(ims)-1); TY.append(t); T.append(toks(t,c)); Y.append(answer(sc,t,c))
    return torch.stack(ims), torch.tensor(sidx[:n]), torch.tensor(T[:n]), torch.tensor(Y[:n])
tr = make(a.train); va = make(2000); vty = TY[:2000]
print('classes', (torch.bincount(tr[3], minlength=9).float()/a.train).tolist(), flush=True)
def he(l): nn.init.kaiming_normal_(l.weight, nonlinearity='relu'); nn.init.zeros_(l.bias); return l
class KP(nn.Module):
    # keypoints encoder: conv body kept at (64 / 2^pools)^2 resolution, then per channel a
    # spatial softmax over the grid -> expected (x, y), plus per-channel max and mean;
    # [x, y, max, mean] for C channels (4C numbers) -> Linear -> ReLU -> 64.
    def __init__(s):
        super().__init__()
        L = []; cin = 3 + (2 if a.kpcoord else 0)
        if a.color1x1: L += [he(nn.Conv2d(cin, a.color1x1, 1)), nn.ReLU()]; cin = a.color1x1
        widths = [16, 32, a.ch]
        for k, w in enumerate(widths):
            L.append(he(nn.Conv2d(cin, w, 3, padding=1)))
            if a.bn: L.append(nn.BatchNorm2d(w))
            L.append(nn.ReLU())
            if k < a.pools: L.append(nn.MaxPool2d(2))
            cin = w
        s.body = nn.Sequential(*L); s.C = cin; G = S >> a.pools; s.G = G
        r = torch.linspace(-1, 1, G)
        s.register_buffer('gx', r.view(1, G).expand(G, G).reshape(-1))
        s.register_buffer('gy', r.view(G, 1).expand(G, G).reshape(-1))
        s.proj = he(nn.Linear(4 * cin, 64))
        if a.encoder == 'spp': s.proj = he(nn.Linear((6 + (16 if a.spp4 else 0)) * cin, 64))
        s.beta = nn.Parameter(torch.full((cin, 1), float(a.temp)))  # learnable inverse temperature per channel
        if a.kpin == 'pre': assert isinstance(s.body[-1], nn.ReLU); s.body[-1] = nn.Identity()
    def forward(s, im):
        if a.encoder == 'spp':  # spatial pyramid: per channel max over 1x1, 2x2 (and 4x4) cells + global mean
            g = s.body(im)
            f = [g.amax((2, 3)), g.mean((2, 3)), F.adaptive_max_pool2d(g, 2).flatten(1)]
            if a.spp4: f.append(F.adaptive_max_pool2d(g, 4).flatten(1))
            return F.relu(s.proj(torch.cat(f, 1)))
        if a.kpcoord:
            n = im.shape[0]; r = torch.linspace(-1, 1, S)
            xy = torch.stack([r.view(1, S).expand(S, S), r.view(S, 1).expand(S, S)]).expand(n, 2, S, S)
            im = torch.cat([im, xy], 1)
        g = s.body(im).flatten(2)                      # n, C, G*G (pre-ReLU if the last ReLU is dropped)
        w = torch.softmax(g * s.beta, 2)               # spatial softmax per channel
        if a.kpin == 'pre': g = F.relu(g)
        kx = (w * s.gx).sum(2); ky = (w * s.gy).sum(2)
        return F.relu(s.proj(torch.cat([kx, ky, g.amax(2), g.mean(2)], 1)))
class Net(nn.Module):
    def __init__(s):
        super().__init__()
        if a.encoder in ('keypoints', 'spp'): s.kp = KP()
        else: s.body = nn.Sequential(he(nn.Conv2d(3,16,3,padding=1)), nn.ReLU(), nn.MaxPool2d(2), he(nn.Conv2d(16,32,3,padding=1)), nn.ReLU(), nn.MaxPool2d(2), he(nn.Conv2d(32,64,3,padding=1)), nn.ReLU(), nn.MaxPool2d(2))
        if a.encoder in ('keypoints', 'spp'): pass
        elif a.encoder == 'coord':  # x, y coordinate channels in; max and mean over the grid out
            s.body[0] = he(nn.Conv2d(5,16,3,padding=1)); s.proj = he(nn.Linear(128, 64))
        else:
            s.proj = he(nn.Linear(64*64, 64))
        s.emb = nn.Embedding(64, 32, padding_idx=0); s.gru = nn.GRU(32, 64, batch_first=True)
        s.head = nn.Sequential(nn.Linear(128 if a.fusion=='concat' else 64, a.head), nn.ReLU(), nn.Linear(a.head, 9))
    def forward(s, im, t):
        if a.encoder in ('keypoints', 'spp'):
            i = s.kp(im)
        elif a.encoder == 'coord':
            n = im.shape[0]; r = torch.linspace(-1, 1, S)
            xy = torch.stack([r.view(1, S).expand(S, S), r.view(S, 1).expand(S, S)]).expand(n, 2, S, S)
            g = s.body(torch.cat([im, xy], 1)).flatten(2)
            i = F.relu(s.proj(torch.cat([g.amax(2), g.mean(2)], 1)))
        else:
            i = F.relu(s.proj(s.body(im).flatten(1)))
        m = (t!=0).float().unsqueeze(-1); h = s.gru(s.emb(t)*m)[0]*m; q = h.sum(1)/m.sum(1).clamp_min(1)
        z = torch.cat([i,q],1) if a.fusion=='concat' else i*q
        return s.head(z)
net = Net(); print('params', sum(x.numel() for x in net.parameters()), flush=True); opt = torch.optim.Adam(net.parameters(), a.lr)
def imgs(d, idx): return d[0][d[1][idx]].float()/255
T0 = time.time()
for ep in range(a.epochs):
    if time.time() - T0 > a.budget: break
    t0=time.time()
    if a.fresh and ep > 0: tr = make(a.train); print(f'regen {time.time()-t0:.0f}s', flush=True)
    net.train(); perm = torch.randperm(a.train); corr=0
    for b in range(0, a.train, 64):
        idx = perm[b:b+64]; out = net(imgs(tr,idx), tr[2][idx]); loss = F.cross_entropy(out, tr[3][idx])
        opt.zero_grad(); loss.backward(); opt.step(); corr += (out.argmax(1)==tr[3][idx]).sum().item()
    net.eval()
    with torch.no_grad():
        pr = torch.cat([net(imgs(va, torch.arange(b,min(b+500,2000))), va[2][b:b+500]).argmax(1) for b in range(0,2000,500)])
    pt = {t: round(sum(1 for i,x in enumerate(vty) if x==t and pr[i]==va[3][i]) / max(1,vty.count(t)),3) for t in types}
    print(f'ep {ep+1} {pt} train {corr/a.train:.3f} val {(pr==va[3]).float().mean():.3f} {time.time()-t0:.0f}s', flush=True)

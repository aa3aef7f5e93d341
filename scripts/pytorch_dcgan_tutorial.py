"""PyTorch's DCGAN tutorial (pytorch.org/tutorials/beginner/dcgan_faces_tutorial.html), run on
tensorgan with its `import torch...` / `import torchvision...` lines (the eight below) changed to
tensorgan's -- the check that tensorgan's PyTorch-like API is PyTorch's (and tensorgan.vision
torchvision's) where a GAN tutorial needs it. Every API call of the tutorial's data pipeline
(`dset` + `transforms` + DataLoader), models, weights_init, training step, `vutils.make_grid` and
saving is unchanged.

What else differs from the tutorial, each marked `# port:` below: MNIST at 1x64x64 through
`dset.MNIST` (the bundled 10,000-image test set unless a folder holding MNIST is given) in place of
CelebA through `dset.ImageFolder`; ngf = ndf = 16, batch 32, workers 0; a few iterations
(`max_iters`) and logs every 5 / grids every 10 of them, not 50 / 500; the loss plot goes to a file
(when matplotlib is installed) and the last grid to a PNG.
`tests/test_torch_conventions.py` runs it for three iterations.

    python scripts/pytorch_dcgan_tutorial.py [OUT_DIR] [ITERATIONS] [MNIST_DIR]
"""
from __future__ import print_function
import os, sys, random, json
import numpy as np
try:  # port: matplotlib is optional here (tensorgan does not need it); no plot without it
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
import tensorgan as torch
import tensorgan.nn as nn
import tensorgan.nn.parallel
import tensorgan.optim as optim
import tensorgan.utils.data
import tensorgan.vision.datasets as dset
import tensorgan.vision.transforms as transforms
import tensorgan.vision.utils as vutils

manualSeed = 999
print("Random Seed: ", manualSeed)
random.seed(manualSeed)
torch.manual_seed(manualSeed)

dataroot = sys.argv[3] if len(sys.argv) > 3 else "data"  # port: "data/celeba"
workers = 0  # port: 2 in the tutorial
batch_size = 32  # port: 128
image_size = 64
nc = 1  # port: 3 (CelebA)
nz = 100
ngf = 16  # port: 64
ndf = 16  # port: 64
num_epochs = 1  # port: 5
max_iters = int(sys.argv[2]) if len(sys.argv) > 2 else 30
lr = 0.0002
beta1 = 0.5
ngpu = 0  # port: 1
out_dir = sys.argv[1] if len(sys.argv) > 1 else "runs/pytorch_dcgan_tutorial"
os.makedirs(out_dir, exist_ok=True)

# port: dset.ImageFolder(root=dataroot, ...) of CelebA and three-channel Normalize in the tutorial;
# the test split falls back to the bundled copy when dataroot holds no MNIST
dataset = dset.MNIST(root=dataroot, train=False,
                     transform=transforms.Compose([
                         transforms.Resize(image_size),
                         transforms.CenterCrop(image_size),
                         transforms.ToTensor(),
                         transforms.Normalize((0.5,), (0.5,)),
                     ]))
dataloader = torch.utils.data.DataLoader(dataset, batch_size=batch_size,
                                         shuffle=True, num_workers=workers)
device = torch.device("cuda:0" if (torch.cuda.is_available() and ngpu > 0) else "cpu")

real_batch = next(iter(dataloader))
print("real batch", tuple(real_batch[0].shape), float(real_batch[0].min()), float(real_batch[0].max()))
grid = vutils.make_grid(real_batch[0].to(device)[:64], padding=2, normalize=True).cpu()
print("real grid", tuple(np.transpose(grid, (1, 2, 0)).shape))


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find('Conv') != -1:
        nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find('BatchNorm') != -1:
        nn.init.normal_(m.weight.data, 1.0, 0.02)
        nn.init.constant_(m.bias.data, 0)


class Generator(nn.Module):
    def __init__(self, ngpu):
        super(Generator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh()
        )

    def forward(self, input):
        return self.main(input)


netG = Generator(ngpu).to(device)
if (device.type == 'cuda') and (ngpu > 1):
    netG = nn.DataParallel(netG, list(range(ngpu)))
netG.apply(weights_init)
print(netG)


class Discriminator(nn.Module):
    def __init__(self, ngpu):
        super(Discriminator, self).__init__()
        self.ngpu = ngpu
        self.main = nn.Sequential(
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 4),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
            nn.Sigmoid()
        )

    def forward(self, input):
        return self.main(input)


netD = Discriminator(ngpu).to(device)
if (device.type == 'cuda') and (ngpu > 1):
    netD = nn.DataParallel(netD, list(range(ngpu)))
netD.apply(weights_init)
print(netD)

criterion = nn.BCELoss()
fixed_noise = torch.randn(64, nz, 1, 1, device=device)
real_label = 1.
fake_label = 0.
optimizerD = optim.Adam(netD.parameters(), lr=lr, betas=(beta1, 0.999))
optimizerG = optim.Adam(netG.parameters(), lr=lr, betas=(beta1, 0.999))

img_list = []
G_losses = []
D_losses = []
iters = 0

print("Starting Training Loop...")
for epoch in range(num_epochs):
    for i, data in enumerate(dataloader, 0):
        ############################
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        ###########################
        netD.zero_grad()
        real_cpu = data[0].to(device)
        b_size = real_cpu.size(0)
        label = torch.full((b_size,), real_label, dtype=torch.float, device=device)
        output = netD(real_cpu).view(-1)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        noise = torch.randn(b_size, nz, 1, 1, device=device)
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach()).view(-1)
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        ############################
        # (2) Update G network: maximize log(D(G(z)))
        ###########################
        netG.zero_grad()
        label.fill_(real_label)
        output = netD(fake).view(-1)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()

        if i % 5 == 0:  # port: 50 in the tutorial
            print('[%d/%d][%d/%d]\tLoss_D: %.4f\tLoss_G: %.4f\tD(x): %.4f\tD(G(z)): %.4f / %.4f'
                  % (epoch, num_epochs, i, len(dataloader),
                     errD.item(), errG.item(), D_x, D_G_z1, D_G_z2))

        G_losses.append(errG.item())
        D_losses.append(errD.item())

        if (iters % 10 == 0) or (iters == max_iters - 1):  # port: 500 and the epoch's end
            with torch.no_grad():
                fake = netG(fixed_noise).detach().cpu()
            img_list.append(vutils.make_grid(fake, padding=2, normalize=True))

        iters += 1
        if iters >= max_iters:  # port: a short run
            break

if plt is not None:
    plt.figure(figsize=(10, 5))
    plt.title("Generator and Discriminator Loss During Training")
    plt.plot(G_losses, label="G")
    plt.plot(D_losses, label="D")
    plt.xlabel("iterations")
    plt.ylabel("Loss")
    plt.legend()
    plt.savefig(os.path.join(out_dir, "losses.png"))

vutils.save_image(img_list[-1], os.path.join(out_dir, "fake_grid.png"))  # port: plt.imshow
torch.save(netG.state_dict(), os.path.join(out_dir, "netG.pth"))
torch.save(netD.state_dict(), os.path.join(out_dir, "netD.pth"))
netG2 = Generator(ngpu).to(device)
netG2.load_state_dict(torch.load(os.path.join(out_dir, "netG.pth")))
netG2.eval()
netG.eval()
with torch.no_grad():
    same = (netG2(fixed_noise) - netG(fixed_noise)).abs().max().item()
print("reloaded G max diff:", same)
with open(os.path.join(out_dir, "losses.json"), "w") as f:
    json.dump({"G": G_losses, "D": D_losses}, f)

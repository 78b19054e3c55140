"""PyTorch twins of the zoo's digits CNN and CIFAR ResNet, layer for layer, for throughput
ratios. Imported only when torch is installed (the `bench` extra)."""

import torch
from torch import nn


class TorchCNN(nn.Module):
    """Twin of `zoo.CNN` with the digits recipe's settings: stages of 3x3 convs + ReLU, 2x max
    pool between stages, global average pooling, dense layer, head. Input NCHW."""

    def __init__(self, in_channels=1, features=(32, 64), convs_per_stage=2, hidden=128, num_classes=10):
        super().__init__()
        layers, c = [], in_channels
        for s, width in enumerate(features):
            for _ in range(convs_per_stage):
                layers += [nn.Conv2d(c, width, 3, padding=1), nn.ReLU()]
                c = width
            if s < len(features) - 1:
                layers.append(nn.MaxPool2d(2))
        self.features = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(c, hidden), nn.ReLU(), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.head(self.features(x).mean(dim=(2, 3)))


class TorchBlock(nn.Module):
    """Twin of `zoo.ResNetBlock`: two 3x3 conv-BN, projection shortcut on shape change."""

    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out, momentum=0.1)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out, momentum=0.1)
        self.proj = None
        if stride != 1 or c_in != c_out:
            self.proj = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x):
        y = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(y + (x if self.proj is None else self.proj(x)))


class TorchResNet(nn.Module):
    """Twin of `zoo.resnet_cifar(depth)`: 3x3 stem, three stages of (depth - 2) / 6 blocks."""

    def __init__(self, depth=20, width=16, num_classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.stem = nn.Sequential(nn.Conv2d(3, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU())
        blocks, c = [], width
        for s in range(3):
            for b in range(n):
                blocks.append(TorchBlock(c, width * 2**s, 2 if s > 0 and b == 0 else 1))
                c = width * 2**s
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(c, num_classes)

    def forward(self, x):
        return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


class TorchCharLSTM(nn.Module):
    """Twin of `zoo.ManyToMany(vocab, "lstm", hidden, vocab_size=vocab, embed_dim=embed)`:
    embedding, one `nn.LSTM` layer (cuDNN on GPU), per-step linear head. Input token ids
    `(batch, time)`. (nn.LSTM keeps two bias vectors where ours keeps one.)"""

    def __init__(self, vocab=96, embed=128, hidden=512):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, tokens):
        return self.head(self.lstm(self.embed(tokens))[0])

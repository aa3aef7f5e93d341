"""torchvision.models' networks that GAN code uses, for tensorgan: ``vgg11/13/16/19`` (+ ``_bn``)
for perceptual / style losses (``vgg19().features[:35]``), ``alexnet`` / ``squeezenet1_0/1_1`` (LPIPS),
``resnet18/34/50/101/152`` (feature extractors, discriminator backbones) and ``inception_v3``
(IS / FID). Module names and shapes are torchvision's, so a torchvision state_dict, converted
once in torch with ``np.savez(f, **{k: v.numpy() for k, v in m.state_dict().items()})``, loads
with ``strict=True`` -- pass the file (or its URL) as ``weights=``. The weight enums
(``VGG19_Weights.IMAGENET1K_V1``, ``"DEFAULT"``, ``pretrained=True``) name torch pickles and are
refused with that recipe; their ``.transforms()`` gives the matching preprocessing."""
from ._api import Weights, WeightsEnum, get_model, get_model_weights, get_weight, list_models
from .alexnet import AlexNet, AlexNet_Weights, alexnet
from .inception import Inception3, Inception_V3_Weights, InceptionOutputs, inception_v3
from .resnet import (BasicBlock, Bottleneck, ResNet, ResNet18_Weights, ResNet34_Weights,
                     ResNet50_Weights, ResNet101_Weights, ResNet152_Weights, resnet18, resnet34,
                     resnet50, resnet101, resnet152)
from .squeezenet import (Fire, SqueezeNet, SqueezeNet1_0_Weights, SqueezeNet1_1_Weights,
                         squeezenet1_0, squeezenet1_1)
from .vgg import (VGG, VGG11_BN_Weights, VGG11_Weights, VGG13_BN_Weights, VGG13_Weights,
                  VGG16_BN_Weights, VGG16_Weights, VGG19_BN_Weights, VGG19_Weights, vgg11,
                  vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn)

__all__ = ["Weights", "WeightsEnum", "get_model", "get_model_weights", "get_weight",
           "list_models", "AlexNet", "AlexNet_Weights", "alexnet", "Inception3",
           "Inception_V3_Weights", "InceptionOutputs", "inception_v3", "BasicBlock", "Bottleneck",
           "ResNet", "ResNet18_Weights", "ResNet34_Weights", "ResNet50_Weights",
           "ResNet101_Weights", "ResNet152_Weights", "resnet18", "resnet34", "resnet50",
           "resnet101", "resnet152", "Fire", "SqueezeNet", "SqueezeNet1_0_Weights",
           "SqueezeNet1_1_Weights", "squeezenet1_0", "squeezenet1_1", "VGG", "VGG11_Weights", "VGG11_BN_Weights", "VGG13_Weights",
           "VGG13_BN_Weights", "VGG16_Weights", "VGG16_BN_Weights", "VGG19_Weights",
           "VGG19_BN_Weights", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn",
           "vgg19", "vgg19_bn"]

"""ResNet50's named presets: how a photo is framed and resized for the network, and how
its last feature map (7 x 7 x 2048) is pooled into one vector.

Each preset is its own extractor identity: its recipe goes into the fingerprint, so
vectors of two presets are never compared. FEATURE_PRESET chooses one (the first
here is the default). Pure data, no TensorFlow.

Measured on the dev set (../shared/data/devset: 300 photos, 10 classes; every photo a
query against the others), same weights, float32, before any re-ranking, with a NumPy
script over the network's last feature maps:

| framing                                   | average pooling | GeM p=3      |
|-------------------------------------------|-----------------|--------------|
| squash to 224, Pillow antialiased bilinear| 0.372 / 0.516   | 0.403 / 0.557|
| squash to 224, nearest (the original app) | 0.382 / 0.525   | 0.408 / 0.564|
| short side 256, centre 224, antialiased   | 0.460 / 0.625   | 0.462 / 0.619|
| short side 224, centre 224, antialiased   | 0.454 / 0.608   | 0.469 / 0.619|
| short side 224, centre 224, sampled       | 0.462 / 0.614   | 0.476 / 0.642|
| short side 256, centre 256, sampled       | 0.455 / 0.599   | 0.475 / 0.628|
| short side 288, centre 288, sampled       | 0.447 / 0.601   | 0.472 / 0.618|

(mAP / P@6.) Squashing distorts every photo that is not square; cropping the centre
keeps shapes. Larger inputs cost more time per image and win nothing here.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Preset:
    name: str
    # "squash": the whole picture stretched to size x size (the original app);
    # "centre-crop": the short side scaled to size, the middle square kept.
    framing: str
    size: int
    # "avg": global average pooling; "gem": generalised mean, (mean of x^p)^(1/p).
    pooling: str
    gem_p: float = 3.0
    # Names everything that changes the vectors: part of the fingerprint. Change it
    # whenever the preprocessing changes, so old vectors become another extractor's.
    recipe: str = ""

    def __post_init__(self):
        if self.framing not in ("squash", "centre-crop") or self.pooling not in ("avg", "gem"):
            raise ValueError(f"Unknown framing or pooling in preset {self.name}")


RESNET50_PRESETS = {
    preset.name: preset for preset in [
        # The default: the centre of the photo, shrunk by whole factors (JPEG's own
        # decoder, then a box filter) to under twice the input and then sampled
        # bilinearly, without antialiasing, like the network's training images were;
        # EXIF orientation applied; GeM pooling, which weighs the strongest responses
        # (the object) above the background.
        Preset("resnet50-gem", framing="centre-crop", size=224, pooling="gem", gem_p=3.0,
               recipe="exif|draft-reduce|centre224-bilinear-sampled|caffe|gem3|v1"),
        # The original app, exactly: Keras' load_img (no EXIF orientation, Pillow's
        # nearest resize of the whole picture to 224 x 224), average pooling. Its
        # vectors are the original app's, so they can be reused.
        Preset("resnet50-gap", framing="squash", size=224, pooling="avg",
               recipe="keras-load-img|squash224-nearest|caffe|avg|v1"),
    ]
}
DEFAULT_PRESET = next(iter(RESNET50_PRESETS))

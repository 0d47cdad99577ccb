// Colour and blur operations of SLIP's SimCLR augmentations, reproducing Pillow/torchvision's PIL path bit for bit.
#pragma once
#include "slipstream/data/image/image.h"

namespace slipstream {

// Every function takes a contiguous CPU uint8 [H, W, 3] RGB image (check_image; ShapeError otherwise)
// and returns a new image of the same shape; the input is never modified. They follow Pillow's
// integer and float32 arithmetic (libImaging/Blend.c, Convert.c, BoxBlur.c), so results equal what
// torchvision gives on a PIL image. The blend factors may be any finite value (Pillow truncates inside
// [0, 1] and clips outside it); a non-finite factor throws ConfigError.

// torchvision F.adjust_brightness on PIL = ImageEnhance.Brightness(img).enhance(factor)
// = Image.blend(black, img, factor). 1 returns a copy, 0 a black image.
Image adjust_brightness(const Image& image, double factor);

// torchvision F.adjust_contrast on PIL = ImageEnhance.Contrast(img).enhance(factor): blend from a uniform
// grey at int(mean of img.convert("L") + 0.5).
Image adjust_contrast(const Image& image, double factor);

// torchvision F.adjust_saturation on PIL = ImageEnhance.Color(img).enhance(factor): blend from
// img.convert("L").convert("RGB").
Image adjust_saturation(const Image& image, double factor);

// torchvision F.adjust_hue on PIL: Pillow's RGB->HSV (8-bit H, S, V), H += uint8(int32(hue_factor * 255))
// with wrap-around, then Pillow's HSV->RGB. hue_factor in [-0.5, 0.5] (ConfigError otherwise).
Image adjust_hue(const Image& image, double hue_factor);

// ImageEnhance.Sharpness(img).enhance(factor) (timm's sharpness op): blend from img.filter(SMOOTH), the
// 3x3 kernel [[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13 in Pillow's float arithmetic with the border rows and
// columns copied unfiltered (an image under 3x3 is its own smooth version).
Image adjust_sharpness(const Image& image, double factor);

// Pillow's img.convert("L") (ITU-R 601-2, L = (R*19595 + G*38470 + B*7471 + 0x8000) >> 16) replicated
// to 3 channels, as torchvision's RandomGrayscale(num_output_channels=3) does.
Image to_grayscale_rgb(const Image& image);

// SLIP's GaussianBlur: img.filter(ImageFilter.GaussianBlur(radius=sigma)), i.e. Pillow's
// ImagingGaussianBlur: 3 passes of an extended box blur (fractional radius from _gaussian_blur_radius),
// horizontal then vertical, edge pixels extended. sigma >= 0 (ConfigError otherwise); 0 returns a copy.
Image gaussian_blur(const Image& image, double sigma);

}  // namespace slipstream

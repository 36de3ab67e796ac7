# SPDX-License-Identifier: AGPL-3.0-or-later
"""Draw the pack's pictures: the Registry icon (docs/icon.png) and one template-browser thumbnail per example
workflow (workflows/<name>.jpg, the file name ComfyUI asks for next to each workflow).

Everything is drawn from shapes, so no real person's face is ever shown: cartoon faces whose "identity" (skin, hair,
eyes, brows, nose) changes while pose and expression stay, as FaceAnon does. The captions come from
docs/templates-index.json, the one home of the workflows' titles and descriptions.

    python docs/draw_pictures.py            # rewrites docs/icon.png and workflows/*.jpg
"""

from __future__ import annotations

import argparse
import json
import os
import textwrap
from dataclasses import dataclass, replace

from PIL import Image, ImageDraw, ImageFilter, ImageFont

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INDEX = os.path.join(ROOT, "docs", "templates-index.json")
SIZE = 512
PICTURE_HEIGHT = 380  # the caption goes below
BACKGROUND = (35, 39, 46)
PANEL = (222, 228, 236)
INK = (40, 44, 52)
ACCENT = (86, 156, 214)
WARNING = (232, 152, 60)
OK = (90, 180, 110)


@dataclass(frozen=True)
class Identity:
    """What FaceAnon changes."""

    skin: tuple
    hair: tuple
    hair_style: str  # short, long, curly, bald
    eye_size: float
    brow_weight: int
    nose_length: float
    face_width: float


@dataclass(frozen=True)
class Expression:
    """What FaceAnon keeps."""

    smile: float = 0.6  # -1 frown .. 1 smile
    mouth_open: float = 0.0
    look: float = 0.0  # gaze, -1 left .. 1 right
    tilt: float = 0.0  # unused by the outline, moves the features


PEOPLE = {
    "a": Identity((238, 200, 170), (60, 40, 30), "short", 1.0, 4, 1.0, 1.0),
    "b": Identity((150, 105, 75), (25, 25, 30), "curly", 0.9, 5, 0.9, 1.05),
    "c": Identity((226, 178, 140), (190, 120, 50), "long", 1.2, 3, 0.8, 0.92),
    "d": Identity((196, 150, 110), (120, 120, 125), "bald", 0.8, 6, 1.15, 1.1),
    "e": Identity((250, 214, 190), (220, 190, 110), "long", 1.1, 3, 0.85, 0.95),
}
SMILE = Expression(0.7)
NEUTRAL = Expression(0.1, look=0.4)
SURPRISED = Expression(0.0, mouth_open=0.8, look=-0.3)


def font(size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


# -- faces and scenes ------------------------------------------------------------------------------------


def face(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, who: Identity, how: Expression) -> None:
    """A cartoon head of radius ``r`` centred at (cx, cy)."""
    w, h = r * 0.82 * who.face_width, r
    if who.hair_style == "long":
        draw.rounded_rectangle((cx - w * 1.18, cy - h * 0.95, cx + w * 1.18, cy + h * 1.05), radius=w * 0.8, fill=who.hair)
    if who.hair_style == "curly":
        for i in range(9):
            angle_x = -1 + i / 4
            draw.ellipse((cx + angle_x * w - r * 0.3, cy - h * 1.08 - r * 0.05 + abs(angle_x) * r * 0.35,
                          cx + angle_x * w + r * 0.3, cy - h * 0.5 + abs(angle_x) * r * 0.35), fill=who.hair)
    for side in (-1, 1):  # ears
        draw.ellipse((cx + side * w - r * 0.16, cy - r * 0.12, cx + side * w + r * 0.16, cy + r * 0.22), fill=who.skin)
    draw.ellipse((cx - w, cy - h, cx + w, cy + h), fill=who.skin, outline=INK, width=max(1, int(r / 30)))
    if who.hair_style in ("short", "long"):
        draw.chord((cx - w * 1.02, cy - h * 1.06, cx + w * 1.02, cy + h * 0.35), 180, 360, fill=who.hair)
    elif who.hair_style == "bald":
        draw.arc((cx - w * 1.04, cy - h * 0.5, cx + w * 1.04, cy + h * 0.7), 160, 200, fill=who.hair, width=int(r / 8))
        draw.arc((cx - w * 1.04, cy - h * 0.5, cx + w * 1.04, cy + h * 0.7), 340, 20, fill=who.hair, width=int(r / 8))
    eye_y, eye_dx, eye_r = cy - r * 0.08, w * 0.42, r * 0.11 * who.eye_size
    for side in (-1, 1):
        ex = cx + side * eye_dx
        draw.ellipse((ex - eye_r * 1.3, eye_y - eye_r, ex + eye_r * 1.3, eye_y + eye_r), fill=(250, 250, 250), outline=INK)
        pupil = ex + how.look * eye_r * 0.6
        draw.ellipse((pupil - eye_r * 0.55, eye_y - eye_r * 0.55, pupil + eye_r * 0.55, eye_y + eye_r * 0.55), fill=INK)
        brow_y = eye_y - eye_r * 2.1 - how.mouth_open * r * 0.06
        draw.line((ex - eye_r * 1.4, brow_y + side * r * 0.02, ex + eye_r * 1.4, brow_y - side * r * 0.02),
                  fill=who.hair if who.hair_style != "bald" else INK, width=max(1, int(who.brow_weight * r / 60)))
    nose_top, nose_bottom = cy - r * 0.02, cy + r * 0.22 * who.nose_length
    draw.line((cx, nose_top, cx - r * 0.06, nose_bottom, cx + r * 0.05, nose_bottom), fill=INK, width=max(1, int(r / 40)))
    mouth_y, mouth_w = cy + r * 0.5, w * 0.45
    if how.mouth_open > 0:
        open_h = r * 0.2 * how.mouth_open
        draw.ellipse((cx - mouth_w * 0.5, mouth_y - open_h, cx + mouth_w * 0.5, mouth_y + open_h), fill=(120, 40, 50), outline=INK)
    else:
        curve = r * 0.18 * how.smile
        box = (cx - mouth_w, mouth_y - abs(curve) - r * 0.02, cx + mouth_w, mouth_y + abs(curve) + r * 0.02)
        if curve >= 0:
            draw.arc(box, 20, 160, fill=INK, width=max(2, int(r / 25)))
        else:
            draw.arc(box, 200, 340, fill=INK, width=max(2, int(r / 25)))


def person(draw: ImageDraw.ImageDraw, cx: float, cy: float, r: float, who: Identity, how: Expression, shirt: tuple) -> None:
    """Head and shoulders; the shirt (what FaceAnon keeps) does not depend on the identity."""
    draw.rounded_rectangle((cx - r * 1.6, cy + r * 1.05, cx + r * 1.6, cy + r * 3.2), radius=r * 0.8, fill=shirt)
    draw.rectangle((cx - r * 0.28, cy + r * 0.8, cx + r * 0.28, cy + r * 1.15), fill=who.skin)
    face(draw, cx, cy, r, who, how)


def scene(size: tuple[int, int], who: list[Identity]) -> Image.Image:
    """Two people in front of a window: the 'photo' of the in-the-wild workflows."""
    width, height = size
    image = Image.new("RGB", size, (200, 214, 228))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 0.72, width, height), fill=(150, 130, 110))
    draw.rectangle((width * 0.36, height * 0.1, width * 0.64, height * 0.5), fill=(160, 200, 235), outline=(250, 250, 250), width=4)
    draw.line((width * 0.5, height * 0.1, width * 0.5, height * 0.5), fill=(250, 250, 250), width=3)
    shirts = [(70, 100, 160), (170, 70, 80)]
    for i, identity in enumerate(who):
        cx = width * (0.27 + 0.46 * i)
        r = height * (0.15 if i == 0 else 0.18)
        person(draw, cx, height * 0.42, r, identity, [SMILE, NEUTRAL][i], shirts[i])
    return image


def face_boxes(size: tuple[int, int]) -> list[tuple[int, int, int, int]]:
    width, height = size
    boxes = []
    for i in range(2):
        cx, cy, r = width * (0.27 + 0.46 * i), height * 0.42, height * (0.15 if i == 0 else 0.18)
        boxes.append((int(cx - r * 1.05), int(cy - r * 1.15), int(cx + r * 1.05), int(cy + r * 1.05)))
    return boxes


def portrait(size: int, who: Identity, how: Expression = SMILE, background: tuple = (214, 224, 236)) -> Image.Image:
    """An aligned face crop: one face, centred and upright."""
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    person(draw, size / 2, size * 0.46, size * 0.3, who, how, (90, 110, 130))
    return image


def pixelate(image: Image.Image, box: tuple[int, int, int, int], block: int = 8) -> None:
    region = image.crop(box)
    small = region.resize((max(1, region.width // block), max(1, region.height // block)), Image.BILINEAR)
    image.paste(small.resize(region.size, Image.NEAREST), box)


# -- picture parts ---------------------------------------------------------------------------------------


def framed(canvas: Image.Image, picture: Image.Image, xy: tuple[int, int], label: str | None = None) -> None:
    x, y = xy
    draw = ImageDraw.Draw(canvas)
    draw.rounded_rectangle((x - 4, y - 4, x + picture.width + 4, y + picture.height + 4), radius=8, fill=PANEL)
    canvas.paste(picture, (x, y))
    if label:
        draw.text((x + picture.width / 2, y + picture.height + 10), label, font=font(18), fill=PANEL, anchor="mt")


def arrow(canvas: Image.Image, start: tuple[float, float], end: tuple[float, float], label: str | None = None) -> None:
    draw = ImageDraw.Draw(canvas)
    draw.line((start, end), fill=ACCENT, width=7)
    (x0, y0), (x1, y1) = start, end
    length = max(1.0, ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5)
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    head = [(x1 + ux * 8, y1 + uy * 8), (x1 - ux * 14 - uy * 12, y1 - uy * 14 + ux * 12), (x1 - ux * 14 + uy * 12, y1 - uy * 14 - ux * 12)]
    draw.polygon(head, fill=ACCENT)
    if label:
        draw.text(((x0 + x1) / 2, min(y0, y1) - 12), label, font=font(18), fill=PANEL, anchor="mb")


def node_box(canvas: Image.Image, box: tuple[int, int, int, int], title: str, colour: tuple = (58, 64, 74)) -> None:
    draw = ImageDraw.Draw(canvas)
    x0, y0, x1, y1 = box
    draw.rounded_rectangle(box, radius=10, fill=colour, outline=(110, 118, 130), width=2)
    draw.rounded_rectangle((x0, y0, x1, y0 + 26), radius=10, fill=(78, 86, 98))
    draw.rectangle((x0, y0 + 16, x1, y0 + 26), fill=(78, 86, 98))
    draw.text((x0 + 10, y0 + 13), title, font=font(16), fill=(235, 238, 242), anchor="lm")


def badge(canvas: Image.Image, text: str, colour: tuple) -> None:
    draw = ImageDraw.Draw(canvas)
    left, top, right, bottom = draw.textbbox((0, 0), text, font=font(18))
    width, height = right - left + 24, bottom - top + 14
    draw.rounded_rectangle((SIZE - width - 14, 14, SIZE - 14, 14 + height), radius=height / 2, fill=colour)
    draw.text((SIZE - 14 - width / 2, 14 + height / 2), text, font=font(18), fill=(255, 255, 255), anchor="mm")


def caption(canvas: Image.Image, text: str) -> None:
    draw = ImageDraw.Draw(canvas)
    draw.line((24, PICTURE_HEIGHT + 4, SIZE - 24, PICTURE_HEIGHT + 4), fill=(70, 76, 88), width=2)
    lines = textwrap.wrap(text, width=40)[:4]
    y = PICTURE_HEIGHT + 18
    for line in lines:
        draw.text((SIZE / 2, y), line, font=font(22), fill=(232, 236, 242), anchor="ma")
        y += 28


def check_mark(canvas: Image.Image, centre: tuple[int, int], r: int = 30) -> None:
    draw = ImageDraw.Draw(canvas)
    cx, cy = centre
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=OK)
    draw.line((cx - r * 0.45, cy, cx - r * 0.1, cy + r * 0.35, cx + r * 0.5, cy - r * 0.35), fill=(255, 255, 255), width=int(r / 4))


def document(canvas: Image.Image, box: tuple[int, int, int, int], label: str) -> None:
    draw = ImageDraw.Draw(canvas)
    x0, y0, x1, y1 = box
    draw.polygon([(x0, y0), (x1 - 18, y0), (x1, y0 + 18), (x1, y1), (x0, y1)], fill=(245, 245, 240), outline=INK)
    for i in range(4):
        draw.line((x0 + 10, y0 + 28 + i * 14, x1 - 12, y0 + 28 + i * 14), fill=(150, 150, 150), width=3)
    draw.text(((x0 + x1) / 2, y1 + 8), label, font=font(16), fill=PANEL, anchor="mt")


# -- one picture per workflow ---------------------------------------------------------------------------

A, B, C, D, E = (PEOPLE[k] for k in "abcde")
SCENE = (200, 150)


def before_after(canvas: Image.Image, before: Image.Image, after: Image.Image, label: str | None = None) -> None:
    y = (PICTURE_HEIGHT - before.height) // 2 + 10
    framed(canvas, before, (24, y), "before")
    framed(canvas, after, (SIZE - 24 - after.width, y), "after")
    arrow(canvas, (24 + before.width + 12, y + before.height / 2), (SIZE - 24 - after.width - 16, y + after.height / 2), label)


def anonymize_photo(canvas: Image.Image) -> None:
    before_after(canvas, scene(SCENE, [A, B]), scene(SCENE, [C, D]))


def redact_photo(canvas: Image.Image) -> None:
    after = scene(SCENE, [A, B])
    for box in face_boxes(SCENE):
        pixelate(after, box, block=9)
    before_after(canvas, scene(SCENE, [A, B]), after)


def verify_report(canvas: Image.Image) -> None:
    before_after(canvas, portrait(180, A), portrait(180, C))
    check_mark(canvas, (SIZE - 60, 96))
    document(canvas, (224, 250, 288, 330), "report.json")


def swap_into_photo(canvas: Image.Image) -> None:
    framed(canvas, portrait(110, E), (24, 30), "source")
    framed(canvas, scene((170, 128), [A, B]), (24, 190), "photo")
    result = scene((230, 172), [A, E])
    framed(canvas, result, (SIZE - 24 - result.width, 100), "result")
    arrow(canvas, (150, 90), (SIZE - 24 - result.width - 16, 170))
    arrow(canvas, (210, 254), (SIZE - 24 - result.width - 16, 200))


def anonymize_aligned(canvas: Image.Image) -> None:
    before_after(canvas, portrait(200, A), portrait(200, C))


def swap_aligned(canvas: Image.Image) -> None:
    framed(canvas, portrait(130, E), (24, 24), "source")
    framed(canvas, portrait(130, A, SURPRISED), (24, 206), "target")
    result = portrait(190, E, SURPRISED)
    framed(canvas, result, (SIZE - 24 - result.width, 95), "result")
    arrow(canvas, (170, 90), (SIZE - 24 - result.width - 16, 160))
    arrow(canvas, (170, 270), (SIZE - 24 - result.width - 16, 220))


def pipeline_diagram(canvas: Image.Image, stages: list[str], extra: str | None = None) -> None:
    framed(canvas, portrait(96, A), (24, 40))
    framed(canvas, portrait(96, C), (SIZE - 24 - 96, 250))
    top = 40
    for i, stage in enumerate(stages):
        box = (170, top + i * 78, 340, top + i * 78 + 54)
        node_box(canvas, box, stage)
        if i:
            arrow(canvas, (255, box[1] - 22), (255, box[1] - 6))
    arrow(canvas, (128, 88), (160, 66))
    last = top + (len(stages) - 1) * 78 + 27
    arrow(canvas, (344, last), (SIZE - 24 - 96 - 14, 290))
    if extra:
        node_box(canvas, (370, 60, 490, 114), extra, colour=(64, 58, 74))
        arrow(canvas, (430, 118), (345, top + (len(stages) - 1) * 78 + 10))


def modular(canvas: Image.Image) -> None:
    pipeline_diagram(canvas, ["Encode Reference", "Blend  1.25", "Sampler"])


def any_sampler(canvas: Image.Image) -> None:
    pipeline_diagram(canvas, ["Encode Reference", "Blend  1.25", "Sampler (Custom)"], extra="Karras")
    draw = ImageDraw.Draw(canvas)
    points = [(380 + i * 10, 96 - 30 * (1 - i / 10) ** 3) for i in range(11)]
    draw.line(points, fill=WARNING, width=3)


def painted_area(canvas: Image.Image) -> None:
    before = portrait(200, A)
    overlay = Image.new("RGBA", before.size, (0, 0, 0, 0))
    ImageDraw.Draw(overlay).rounded_rectangle((58, 62, 142, 122), radius=18, fill=(230, 60, 60, 120))
    painted = Image.alpha_composite(before.convert("RGBA"), overlay).convert("RGB")
    after = portrait(200, A)
    changed = portrait(200, replace(A, eye_size=1.35, brow_weight=2, nose_length=0.75))
    mask = Image.new("L", after.size, 0)
    ImageDraw.Draw(mask).rounded_rectangle((58, 62, 142, 122), radius=18, fill=255)
    after.paste(changed, (0, 0), mask.filter(ImageFilter.GaussianBlur(3)))
    before_after(canvas, painted, after)


def upscale(canvas: Image.Image) -> None:
    small = portrait(200, C).resize((48, 48), Image.BILINEAR).resize((90, 90), Image.NEAREST)
    framed(canvas, portrait(120, A), (24, 40), "face")
    framed(canvas, small, (60, 230), "512 px")
    big = portrait(230, C)
    framed(canvas, big, (SIZE - 24 - big.width, 70), "2048 px")
    arrow(canvas, (150, 100), (150, 210))
    arrow(canvas, (164, 275), (SIZE - 24 - big.width - 16, 200), "4x")


def upscale_faces(canvas: Image.Image) -> None:
    framed(canvas, scene((170, 128), [A, B]), (24, 24), "photo")
    for i, who in enumerate((C, D)):
        framed(canvas, portrait(88, who), (220 + i * 106, 64))
    arrow(canvas, (200, 108), (214, 108))
    result = scene((230, 172), [C, D])
    framed(canvas, result, (SIZE - 24 - result.width, 184), "result")
    arrow(canvas, (320, 160), (320, 180), "4x")
    draw = ImageDraw.Draw(canvas)
    draw.text((24, 200), "Detect Faces\n-> anonymize\n-> upscale\n-> Paste Faces", font=font(18), fill=PANEL, spacing=8)


def polish_seams(canvas: Image.Image) -> None:
    before = scene(SCENE, [C, D])
    draw = ImageDraw.Draw(before)
    for box in face_boxes(SCENE):
        x0, y0, x1, y1 = box
        draw.ellipse((x0 - 6, y0 - 6, x1 + 6, y1 + 6), outline=(240, 240, 240), width=3)
    after = scene(SCENE, [C, D])
    before_after(canvas, before, after, "SD 1.5")


DRAWINGS = {
    "01": anonymize_photo, "02": redact_photo, "03": verify_report, "04": swap_into_photo, "05": anonymize_aligned,
    "06": swap_aligned, "07": modular, "08": any_sampler, "09": painted_area, "10": upscale, "11": upscale_faces,
    "12": polish_seams,
}
NEEDS = {  # third-party model a workflow needs, as a badge (the workflows hold the files' metadata)
    "09": "needs an SD VAE", "10": "needs an upscaler", "11": "needs an upscaler", "12": "needs an SD checkpoint",
}


def thumbnail(template: dict) -> Image.Image:
    number = template["name"][:2]
    canvas = Image.new("RGB", (SIZE, SIZE), BACKGROUND)
    DRAWINGS[number](canvas)
    if number in NEEDS:
        badge(canvas, NEEDS[number], WARNING)
    caption(canvas, template["description"])
    return canvas


def icon() -> Image.Image:
    """A face whose right half is another identity with the same expression: FaceAnon on a rounded square."""
    scale = 4  # drawn large, then reduced, for smooth edges
    size = SIZE * scale
    canvas = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(canvas)
    draw.rounded_rectangle((0, 0, size - 1, size - 1), radius=size * 0.2, fill=(32, 74, 110, 255))
    left = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    face(ImageDraw.Draw(left), size / 2, size * 0.5, size * 0.3, A, SMILE)
    right = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    face(ImageDraw.Draw(right), size / 2, size * 0.5, size * 0.3, C, SMILE)
    half = Image.new("L", (size, size), 0)
    ImageDraw.Draw(half).rectangle((size // 2, 0, size, size), fill=255)
    canvas.alpha_composite(left)
    canvas.paste(right, (0, 0), Image.composite(right.getchannel("A"), Image.new("L", (size, size), 0), half))
    draw.line((size / 2, size * 0.14, size / 2, size * 0.86), fill=(255, 255, 255, 230), width=3 * scale)
    return canvas.resize((SIZE, SIZE), Image.LANCZOS)


def load_templates(index_path: str = INDEX) -> list[dict]:
    with open(index_path, encoding="utf-8") as f:
        return [template for category in json.load(f) for template in category["templates"]]


def draw_all(workflows_dir: str, icon_path: str, index_path: str = INDEX) -> list[str]:
    """Write every thumbnail and the icon; returns the paths written."""
    written = []
    for template in load_templates(index_path):
        path = os.path.join(workflows_dir, f"{template['name']}.jpg")
        thumbnail(template).save(path, quality=85, optimize=True)
        written.append(path)
    icon().save(icon_path, optimize=True)
    written.append(icon_path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workflows", default=os.path.join(ROOT, "workflows"))
    parser.add_argument("--icon", default=os.path.join(ROOT, "docs", "icon.png"))
    args = parser.parse_args()
    for path in draw_all(args.workflows, args.icon):
        print(path)


if __name__ == "__main__":
    main()

"""StreamField blocks for newsletter content.

Each block has a web template (``blocks/<name>.html``); the email layouts render
the same blocks with email-safe markup (``templates/emails/blocks/``).
"""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.images.blocks import ImageChooserBlock

RICH_TEXT_FEATURES = ["bold", "italic", "link", "ol", "ul", "h3"]


class HeadingBlock(blocks.CharBlock):
    class Meta:
        icon = "title"
        template = "blocks/heading.html"
        label = _("Heading")


class ImageBlock(blocks.StructBlock):
    image = ImageChooserBlock()
    alt = blocks.CharBlock(
        label=_("Alternative text"),
        max_length=255,
        help_text=_("Describe the image for readers who cannot see it."),
    )
    caption = blocks.CharBlock(required=False, max_length=255)

    class Meta:
        icon = "image"
        template = "blocks/image.html"
        label = _("Image")


class CallToActionBlock(blocks.StructBlock):
    text = blocks.CharBlock(max_length=80, label=_("Button text"))
    url = blocks.URLBlock(label=_("Link"))

    class Meta:
        icon = "link"
        template = "blocks/call_to_action.html"
        label = _("Call to action")


class NewsletterBodyBlock(blocks.StreamBlock):
    heading = HeadingBlock()
    paragraph = blocks.RichTextBlock(
        features=RICH_TEXT_FEATURES, template="blocks/paragraph.html", label=_("Text")
    )
    image = ImageBlock()
    call_to_action = CallToActionBlock()


class PointBlock(blocks.StreamBlock):
    """A list of short points: key messages, recommendations, questions."""

    point = blocks.TextBlock(label=_("Point"), template="blocks/point.html")


class FactBlock(blocks.StructBlock):
    figure = blocks.CharBlock(
        max_length=40, label=_("Figure"), help_text=_("For example: 2.4 million")
    )
    label = blocks.CharBlock(max_length=200, label=_("What it counts"))
    source = blocks.CharBlock(max_length=200, required=False, label=_("Source"))

    class Meta:
        icon = "table"
        template = "blocks/fact.html"
        label = _("Fact")


class FactsBlock(blocks.StreamBlock):
    fact = FactBlock()

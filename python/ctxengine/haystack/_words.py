"""Word lists for the built-in generators: keys, names, places, attributes.

Written for ctxengine (nothing here is taken from another benchmark's data files), so the package
can ship them. Lists are sorted and free of duplicates so that seeded draws are reproducible.
"""

from __future__ import annotations

ADJECTIVES: tuple[str, ...] = tuple(
    sorted(
        set(
            """
    amber ancient angry arctic ashen autumn bashful bitter blazing bold brave breezy brisk
    bronze calm careful cheerful chilly clever cloudy copper cosmic crimson crisp curious
    daring dawn dusty eager early electric emerald fancy fearless fierce fiery flat fluffy
    foggy fragile frosty gentle giant gilded glassy gleaming golden graceful grand green
    hollow honest humble icy idle indigo ivory jagged jolly keen kind lavish lazy
    little lively lonely lucky lunar marble mellow merry mighty misty modest molten muddy
    narrow nimble noble odd olive orange pale patient plain polished proud purple quiet
    quick rapid rare restless rocky rosy royal rugged rusty sacred salty sandy scarlet
    serene shady sharp shiny silent silver sleepy slender slow smoky smooth snowy
    solar sour spare spicy steady stormy sturdy sunny swift tall tame tender thirsty tidy
    tiny tranquil velvet violet vivid wandering warm wary wild windy wise witty wooden
    young zealous
    """.split()
        )
    )
)

NOUNS: tuple[str, ...] = tuple(
    sorted(
        set(
            """
    acorn anchor anvil apple arch arrow atlas badger bagel balloon bamboo banner barn
    basket beacon beetle bell bench berry bicycle bison blanket blossom boat bottle boulder
    bridge brook bucket button cabin cactus camel candle canoe canyon carrot castle cedar
    cello chair chimney cloud clover comet compass coral cottage crane crater crown crystal
    cup daisy desert dolphin dragon drum eagle easel ember engine falcon feather fern ferry
    fiddle flame flute forest fountain fox garden garnet gate glacier goose granite harbor
    harp hawk hedge helmet heron hill honey horizon island jackal jasmine kettle kite lagoon
    lantern lemon lighthouse lily lion lizard locket magnet maple meadow meteor mirror
    monkey moose mountain mushroom needle nest oak oasis ocean orchard otter owl paddle
    panda parrot pebble pepper piano pillow pine planet plum pond poppy puzzle quartz
    quill rabbit raven reef ribbon river robin rocket saddle sail salmon sapphire scarf
    shell shovel sparrow spider spoon squirrel statue stone sunflower swan teapot thistle
    thunder tiger tulip tunnel turtle umbrella valley vase violin volcano wagon walnut
    whale willow window wolf yak zebra
    """.split()
        )
    )
)

# Everyday words for RULER-style common-word extraction (nouns, verbs, adjectives).
COMMON_WORDS: tuple[str, ...] = tuple(
    sorted(
        set(
            (
                " ".join(ADJECTIVES)
                + " "
                + " ".join(NOUNS)
                + """
    accept achieve admire advise allow answer appear arrange arrive attach avoid bake
    balance behave belong blink boil borrow bounce breathe build bury calculate carry
    celebrate change charge chase cheer chew collect compare complain connect consider
    cook copy count cover crawl cross dance decide deliver describe design discover divide
    drift earn embrace enjoy escape examine exist explain explore fasten fetch finish float
    fold follow forgive gather glow guard guess hammer handle harvest heal hover hunt
    imagine improve include inform invent invite juggle kneel knit laugh launch lift listen
    manage march measure melt mention migrate mix nod notice obey observe offer open order
    paint pause perform plant play polish pour practice pray prepare pretend promise protect
    pull punch question race reach realise receive remain remember repair repeat reply rescue
    return ripple roam rush scatter search settle shiver sketch slide smile sneeze spark
    spill stitch stretch suggest supply surround swing tackle taste tease thank tickle trace
    travel trust tumble twist unfold unite vanish visit wander wash weave whisper wiggle
    wonder worry wrestle yawn yell zoom
    """
            ).split()
        )
    )
)

FIRST_NAMES: tuple[str, ...] = tuple(
    sorted(
        set(
            """
    Abel Ada Adrian Agnes Alba Alden Alma Amos Anika Ansel Arlo Astrid Aurelio Beatrix
    Bennett Bianca Boris Bram Calla Camille Casimir Celia Cedric Clara Cosmo Dalia Damon
    Delphine Desmond Dora Edgar Edith Elio Elsa Emeric Enzo Esme Ezra Fabian Felix Fiona
    Flora Gideon Greta Hana Hector Helga Hugo Ida Ignatius Ines Ingrid Isidore Ivo Jasper
    Jonah Juno Kai Kasimir Keira Lachlan Lena Leon Liesel Linus Lorenzo Lucia Magnus Maren
    Matilda Milo Mira Nadia Nico Nils Noor Octavia Odile Orla Oskar Otto Paloma Perrin
    Petra Quentin Quinn Rafael Rhea Rosalind Rufus Sabine Selma Silas Solveig Stellan Tamsin
    Thea Tobias Ulla Umberto Valentina Vera Viggo Wanda Wendell Xavier Yara Yusuf Zelda
    Zora
    """.split()
        )
    )
)

LAST_NAMES: tuple[str, ...] = tuple(
    sorted(
        set(
            """
    Abernathy Ackerly Aldana Ashdown Balogun Barrowby Bellweather Blackwood Bramhall
    Calloway Castellan Cheverly Crestwood Dalgleish Davenport Dunmore Eastbrook Eldridge
    Everhart Fairbanks Falkenrath Fenwick Galbraith Garroway Greystoke Hallorann Harrowgate
    Hawthorne Holloway Ingleby Ironside Jablonski Kettering Kingsley Lockridge Longmire
    Lowell Marchetti Merriweather Montague Nakashima Northcott Oakenshield Ostrander
    Pemberton Petrakis Quimby Ravenscroft Redfern Rothwell Saltonstall Sandoval Silverton
    Stanhope Sutherland Thackeray Thornbury Underhill Vanterpool Vasquez Wainwright
    Westerberg Whitlock Winterbourne Wrexham Yardley Zabinski
    """.split()
        )
    )
)

CITIES: tuple[str, ...] = tuple(
    sorted(
        """
    Aberdeen Adelaide Antwerp Asuncion Bergen Bilbao Bologna Bordeaux Brisbane Brno
    Calgary Cork Cusco Dakar Dresden Dublin Dunedin Edinburgh Florence Gdansk Geneva Ghent
    Graz Halifax Hobart Innsbruck Kyoto Leeds Leipzig Lille Lisbon Ljubljana Lyon Malmo
    Manchester Marseille Montevideo Nagoya Nantes Naples Oaxaca Oporto Osaka Oslo Ottawa
    Oulu Perth Porto Quebec Reykjavik Riga Rotterdam Salzburg Santiago Seville Tallinn
    Tampere Toulouse Trieste Turin Uppsala Utrecht Valencia Valparaiso Vilnius Winnipeg
    Wroclaw Zagreb Zurich
    """.split()
    )
)

UNIVERSITIES: tuple[str, ...] = tuple(f"the University of {city}" for city in CITIES[::3]) + tuple(
    f"{city} Institute of Technology" for city in CITIES[1::5]
)

MAJORS: tuple[str, ...] = (
    "anthropology",
    "architecture",
    "astronomy",
    "biochemistry",
    "chemical engineering",
    "civil engineering",
    "classics",
    "computer science",
    "economics",
    "geology",
    "history",
    "linguistics",
    "marine biology",
    "mathematics",
    "mechanical engineering",
    "music theory",
    "nursing",
    "philosophy",
    "physics",
    "political science",
    "psychology",
    "sociology",
    "statistics",
    "urban planning",
)

COMPANIES: tuple[str, ...] = tuple(
    f"{a} {b}"
    for a, b in zip(
        "Amberline Bluefield Cobaltworks Driftwood Evergrain Foxglove Granitepeak Harborlight "
        "Ironbark Juniper Keystone Lanternfly Moonstone Northwind Orchardia Pinecrest Quillon "
        "Riverbend Stonebridge Tidewater Umberwell Vantage Willowmere Yellowfin".split(),
        "Labs Holdings Systems Logistics Foods Pharma Mining Shipping Textiles Analytics "
        "Robotics Media Energy Airlines Farms Software Optics Insurance Steel Maritime "
        "Ceramics Capital Publishing Fisheries".split(),
        strict=True,
    )
)

HOBBIES: tuple[str, ...] = (
    "archery",
    "beekeeping",
    "birdwatching",
    "bookbinding",
    "calligraphy",
    "canoeing",
    "chess",
    "embroidery",
    "fencing",
    "glassblowing",
    "kayaking",
    "knitting",
    "origami",
    "orienteering",
    "pottery",
    "rock climbing",
    "sailing",
    "stargazing",
    "tai chi",
    "watercolour painting",
    "woodcarving",
)

DEPARTMENTS: tuple[str, ...] = (
    "Accounting",
    "Design",
    "Engineering",
    "Legal",
    "Logistics",
    "Marketing",
    "Research",
    "Sales",
    "Support",
)

# Noise sentences in the spirit of the passkey test's repeated filler, written for ctxengine.
NOISE_SENTENCES: tuple[str, ...] = (
    "The river runs to the sea.",
    "The hills are quiet at dawn.",
    "The stones by the road are grey.",
    "On and on it goes.",
    "Round the bend and home again.",
)

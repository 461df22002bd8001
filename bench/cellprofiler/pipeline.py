"""Build the reference CellProfiler pipeline and run it headless (run with CellProfiler's own Python).

    CELLPROFILER_PYTHON pipeline.py FOLDER

FOLDER holds ``load.csv`` (LoadData: each field's DNA and Actin images and
its Nuclei, Cells and Cytoplasm label images, written by
``make_fixture.py``); the pipeline is saved there as ``measure.cppipe`` and
its tables are written to ``FOLDER/out``. The modules measure what
``analysis.steps.profiling`` and ``analysis.steps.quality`` measure, with
CellProfiler 4.2's defaults where the package keeps them.
"""

import sys
from pathlib import Path

import cellprofiler_core.preferences as preferences

preferences.set_headless()
preferences.set_awt_headless(True)

from cellprofiler.modules import (  # noqa: E402
    measurecolocalization,
    measuregranularity,
    measureimagequality,
    measureobjectintensity,
    measureobjectintensitydistribution,
    measureobjectsizeshape,
    measuretexture,
)
from cellprofiler.modules.exporttospreadsheet import ExportToSpreadsheet  # noqa: E402
from cellprofiler_core.modules.loaddata import LoadData  # noqa: E402
from cellprofiler_core.pipeline import Pipeline  # noqa: E402
from cellprofiler_core.setting.text import Directory  # noqa: E402

STAINS = ["DNA", "Actin"]
OBJECTS = ["Nuclei", "Cells", "Cytoplasm"]


def build(folder: Path) -> Pipeline:
    pipeline = Pipeline()
    modules = []

    load = LoadData()
    load.csv_directory.value = Directory.static_join_string(preferences.ABSOLUTE_FOLDER_NAME, str(folder))
    load.csv_file_name.value = "load.csv"
    load.wants_images.value = True
    load.rescale.value = True
    load.image_directory.value = Directory.static_join_string(preferences.ABSOLUTE_FOLDER_NAME, str(folder))
    modules.append(load)

    shape = measureobjectsizeshape.MeasureObjectSizeShape()
    shape.objects_list.value = ", ".join(OBJECTS)
    shape.calculate_zernikes.value = True
    shape.calculate_advanced.value = True
    modules.append(shape)

    intensity = measureobjectintensity.MeasureObjectIntensity()
    intensity.images_list.value = ", ".join(STAINS)
    intensity.objects_list.value = ", ".join(OBJECTS)
    modules.append(intensity)

    texture = measuretexture.MeasureTexture()
    texture.images_list.value = ", ".join(STAINS)
    texture.objects_list.value = ", ".join(OBJECTS)
    texture.gray_levels.value = 256
    texture.images_or_objects.value = measuretexture.IO_OBJECTS
    texture.scale_groups[0].scale.value = 3
    modules.append(texture)

    granularity = measuregranularity.MeasureGranularity()
    granularity.images_list.value = ", ".join(STAINS)
    granularity.wants_objects.value = True
    granularity.objects_list.value = ", ".join(OBJECTS)
    modules.append(granularity)

    radial = measureobjectintensitydistribution.MeasureObjectIntensityDistribution()
    radial.images_list.value = ", ".join(STAINS)
    for number, name in enumerate(OBJECTS):
        if number:
            radial.add_object()
        radial.objects[number].object_name.value = name
        radial.objects[number].center_choice.value = measureobjectintensitydistribution.C_SELF
    radial.bin_counts[0].wants_scaled.value = True
    radial.bin_counts[0].bin_count.value = 4
    radial.wants_zernikes.value = measureobjectintensitydistribution.Z_NONE
    modules.append(radial)

    colocalization = measurecolocalization.MeasureColocalization()
    colocalization.images_list.value = ", ".join(STAINS)
    colocalization.objects_list.value = ", ".join(OBJECTS)
    colocalization.images_or_objects.value = measurecolocalization.M_OBJECTS
    colocalization.do_all.value = True
    colocalization.fast_costes.value = measurecolocalization.M_FASTER
    modules.append(colocalization)

    quality = measureimagequality.MeasureImageQuality()
    quality.images_choice.value = measureimagequality.O_SELECT
    group = quality.image_groups[0]
    group.image_names.value = ", ".join(STAINS)
    group.check_blur.value = True
    group.check_saturation.value = True
    group.check_intensity.value = True
    group.calculate_threshold.value = False
    modules.append(quality)

    export = ExportToSpreadsheet()
    export.directory.value = Directory.static_join_string(
        preferences.ABSOLUTE_FOLDER_NAME, str(folder / "out")
    )
    export.wants_prefix.value = False
    export.wants_everything.value = True
    export.nan_representation.value = "NaN"
    modules.append(export)

    for number, module in enumerate(modules, start=1):
        module.set_module_num(number)
        pipeline.add_module(module)
    return pipeline


def main(folder: Path) -> None:
    (folder / "out").mkdir(exist_ok=True)
    pipeline = build(folder)
    with open(folder / "measure.cppipe", "w") as stream:
        pipeline.dump(stream)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())

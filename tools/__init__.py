"""The build and maintenance tools of the series, run from the repository root as modules.

    python -m tools.run_lessons     make run: execute the lessons into build/run/, with their site
    python -m tools.build_site      make html / make slides: the static site and reveal.js decks
    python -m tools.tag_slides      slide metadata derived from each lesson's cells
    python -m tools.make_exercises  make exercises: the exercise sets from the solutions (nbgrader)
    python -m tools.refresh         make refresh: outputs, slides and exercises of edited lessons
    python -m tools.grade           make grade: a class's exercise notebooks on nbgrader, each in a
                                    sandbox (grade_sandbox: nbgrader's Execute inside it;
                                    grade_tamper: the flags for code that touches the checks)
    python -m tools.test_portable   make test-portable: stored outputs on an emulated older CPU
    python -m tools.working_copy    make lab: the student's working copy my-work/

Imported by those: series_page (build/html/loop.html, the lessons' loops aligned),
install_hint, make_engine. The browser checks (make check-render, check-explorers, check-lab: the
site, decks, explorers and JupyterLab in headless Chromium) are tests/browser/, on pytest-playwright.
`make test-compat` (oldest and newest numpy/matplotlib) is nox's: see noxfile.py at the root.
Nothing here is imported by the lessons or by the ``gdlessons`` package.
"""

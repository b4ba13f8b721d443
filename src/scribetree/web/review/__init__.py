"""Review pages: the educator's submission list, reader, inline comments and rubric grading; the student's feedback."""
